import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { parseResetTarget, resetBookmark, setSyncEnabled } from '../../shared/ops/syncControl.ts';
import { position } from '../format.ts';
import { confirm, EXIT, out, outJson } from '../output.ts';

/** `writeback enable|disable <sync>`. */
export async function enableCommand(
  ctx: OpsContext,
  sync: string,
  enabled: boolean,
  json: boolean,
): Promise<number> {
  const res = await setSyncEnabled(ctx, sync, enabled);
  if (json) outJson({ sync, ...res });
  else {
    out(`${sync}: ${res.before === res.after ? 'already ' : ''}${enabled ? 'enabled' : 'disabled'}`);
    if (!enabled)
      out('  its runs are skipped until `writeback enable`; records already queued are still written');
  }
  return EXIT.ok;
}

/** `writeback reset <sync> --to <bookmark> --yes`. */
export async function resetCommand(
  ctx: OpsContext,
  sync: string,
  opts: { to: string; yes?: boolean },
  json: boolean,
): Promise<number> {
  ctx.sync(sync);
  const target = parseResetTarget(opts.to);
  const { bookmark } = await ctx.state.get(sync);
  await confirm(`move the bookmark of ${sync} from ${position(bookmark)} to ${opts.to}`, sync, opts.yes);
  const res = await resetBookmark(ctx, sync, target);
  if (json) outJson({ sync, ...res });
  else {
    out(`${sync}: bookmark ${position(res.before)} → ${position(res.after)}`);
    out('  the next run reads from there; rows whose content the target already holds are skipped by hash');
  }
  return EXIT.ok;
}
