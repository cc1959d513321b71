import { z } from 'zod';
import { sqlFragmentProblem } from '../source/sqlFragment.ts';

/** A plain column name, as a config names columns (quoted when used). */
export const Identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain column name (letters, digits, _)');

/** A table or view, `schema.name` (or a bare name). */
export const QualifiedName = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/, 'expected schema.table');

/** A piece of SQL Writeback wraps in parentheses: nothing in it may reach outside them. */
export const SqlFragment = z
  .string()
  .min(1)
  .superRefine((sql, ctx) => {
    const problem = sqlFragmentProblem(sql);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
