import type { Row } from '../../shared/config/schema.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import type { Link } from '../../shared/links/Link.ts';
import { enqueueDecision } from '../../shared/links/selectChanged.ts';
import { defineTwoWay } from '../../shared/pair/defineTwoWay.ts';
import { MIRROR_HASH, type PairEntity } from '../../shared/pair/PairStore.ts';
import type { PairConfig } from '../../shared/pair/pairSchema.ts';
import { planRows, settleEchoes } from '../../shared/pair/planPairPage.ts';
import type { WriteMessage } from '../../shared/queue/WriteMessage.ts';
import { pairWriteOf } from '../../shared/write/recordPairWrite.ts';
import { linkWith } from './links.ts';

/**
 * An in-memory world for the two-way protocol's property test: two apps that stamp their own
 * modification times and normalise what is written to them, an incremental ELT per app, the two
 * directions planned by the product's own planRows, queues that redeliver, and writers that may
 * crash after the target call or after recording the pair write, committing links as the write
 * protocol does. Only the I/O is simulated; every decision is the product's code.
 */

export type Side = 'a' | 'b';
export const FIELDS = ['email', 'first', 'acct'] as const;
export type Field = (typeof FIELDS)[number];
/** Who owns each field: the property test edits a field only on a side that may change it. */
export const OWNER: Record<Field, Side | 'both'> = { email: 'both', first: 'a', acct: 'b' };

const [toB, toA] = defineTwoWay({
  name: 'people',
  a: { name: 'app-a', connection: 'hubspot', object: 'contacts', externalId: 'stamp', copy: copySpec() },
  b: { name: 'app-b', connection: 'xero', object: 'Contacts', copy: copySpec() },
  fields: {
    email: { a: 'email', b: 'email', owner: 'both', normalize: 'email' },
    first: { a: 'first', b: 'first', owner: 'a' },
    acct: { a: 'acct', b: 'acct', owner: 'b' },
    name: {
      a: { value: (row: Row) => `${row.first ?? ''}`.trim() || 'nameless' },
      b: { field: 'name' },
      owner: 'a',
      seedOnce: true,
    },
  },
});
const config = validateConfig({
  connections: { hubspot: { type: 'hubspot', secret: 's' }, xero: { type: 'xero', secret: 's' } },
  syncs: [toB, toA],
});
const pairOf: Record<Side, PairConfig> = { a: config.syncs[0]!.pair!, b: config.syncs[1]!.pair! };
const syncOf: Record<Side, string> = { a: config.syncs[0]!.name, b: config.syncs[1]!.name };

function copySpec() {
  return { table: 'copy.t', key: 'id', cursor: 'loaded', modifiedAt: 'modified', stamp: 'stamp' };
}

interface AppRecord {
  readonly id: string;
  fields: Record<string, string | null>;
  stamp: string | null;
  modified: number;
}

/** An app: ids of its own, a modification time on every change, values normalised as it stores them. */
class App {
  public readonly records = new Map<string, AppRecord>();
  private next = 1;
  public writes = 0;
  private readonly side: Side;
  private readonly store: (field: string, v: string | null) => string | null;
  public constructor(side: Side, store: (field: string, v: string | null) => string | null) {
    this.side = side;
    this.store = store;
  }
  public create(fields: Record<string, string | null>, stamp: string | null, at: number): AppRecord {
    const rec: AppRecord = { id: `${this.side}${this.next++}`, fields: {}, stamp, modified: at };
    for (const [k, v] of Object.entries(fields)) rec.fields[k] = this.store(k, v);
    this.records.set(rec.id, rec);
    return rec;
  }
  public edit(id: string, fields: Record<string, unknown>, at: number): void {
    const rec = this.records.get(id)!;
    for (const [k, v] of Object.entries(fields)) rec.fields[k] = this.store(k, (v ?? null) as string | null);
    rec.modified = at;
  }
}

interface CopyRow extends Row {
  id: string;
  stamp: string | null;
  modified: number;
  loaded: number;
}

interface Delivery {
  readonly msg: WriteMessage;
}

export type Crash = 'none' | 'after-target-call' | 'after-pair-record';

/** Counts the world keeps for the assertions. */
export interface WorldEdit {
  readonly side: Side;
  readonly record: string;
  readonly field: Field;
  readonly value: string | null;
  readonly at: number;
}

export class PairWorld {
  private clock = 1;
  public readonly apps: Record<Side, App> = {
    // App a keeps what it is given; app b trims text and lower-cases e-mail addresses (its echo differs in form).
    a: new App('a', (_f, v) => v),
    b: new App('b', (f, v) => (v === null ? null : f === 'email' ? v.trim().toLowerCase() : v.trim())),
  };
  private readonly copies: Record<Side, Map<string, CopyRow>> = { a: new Map(), b: new Map() };
  private readonly bookmarks: Record<Side, number> = { a: 0, b: 0 };
  /** Links of the direction reading each side, by source key. */
  public readonly links: Record<Side, Map<string, Link>> = { a: new Map(), b: new Map() };
  private readonly entities = new Map<string, PairEntity>();
  private readonly queues: Record<Side, Delivery[]> = { a: [], b: [] };
  public readonly edits: WorldEdit[] = [];

  private tick(): number {
    return this.clock++;
  }

  public create(side: Side, fields: Record<string, string | null>): void {
    const rec = this.apps[side].create(fields, null, this.tick());
    for (const [field, value] of Object.entries(fields)) {
      this.edits.push({ side, record: rec.id, field: field as Field, value, at: rec.modified });
    }
  }

  /** A person edits the n-th record of an app (modulo its size). */
  public edit(side: Side, n: number, field: Field, value: string | null): void {
    const ids = [...this.apps[side].records.keys()];
    if (ids.length === 0) return;
    const id = ids[n % ids.length]!;
    const at = this.tick();
    this.apps[side].edit(id, { [field]: value }, at);
    this.edits.push({ side, record: id, field, value, at });
  }

  /** The ELT: rows whose record changed since the last load are (re)loaded, with the load time. */
  public load(side: Side): void {
    const at = this.tick();
    for (const rec of this.apps[side].records.values()) {
      const copy = this.copies[side].get(rec.id);
      if (copy && copy.modified === rec.modified) continue;
      this.copies[side].set(rec.id, {
        ...rec.fields,
        id: rec.id,
        stamp: rec.stamp,
        modified: rec.modified,
        loaded: at,
      });
    }
  }

  /** One extract run of the direction reading `side`: rows loaded after its bookmark, planned, judged, enqueued. */
  public async extract(side: Side): Promise<void> {
    const pair = pairOf[side];
    const other: Side = side === 'a' ? 'b' : 'a';
    const rows = [...this.copies[side].values()]
      .filter((r) => r.loaded > this.bookmarks[side])
      .sort((x, y) => x.loaded - y.loaded || x.id.localeCompare(y.id));
    if (rows.length === 0) return;
    this.bookmarks[side] = rows.at(-1)!.loaded;
    const built: WriteMessage[] = rows.map((r) => ({
      v: 1,
      sync: syncOf[side],
      key: r.id,
      version: String(r.loaded),
      hash: 'unplanned',
      payload: {},
      runId: 'r',
      enqueuedAt: '',
    }));
    const targetIds = new Map<string, string>();
    for (const [k, l] of this.links[side]) if (l.targetId) targetIds.set(k, l.targetId);
    const planned = planRows(
      pair,
      rows.map((r) => ({ key: r.id, row: r })),
      built,
      { targetIds, entities: this.entities, targetRows: this.copies[other] },
    );
    // As the link store's touchVersion: committed with this content, older, unclaimed.
    const page = await settleEchoes(planned, this.links[side], async (key, version, hash) => {
      const link = this.links[side].get(key);
      if (link?.status !== 'ok' || link.hash !== hash) return false;
      if (link.version !== undefined && BigInt(link.version) >= BigInt(version)) return false;
      this.links[side].set(key, { ...link, version });
      return true;
    });
    for (const msg of page.messages) {
      if (enqueueDecision(this.links[side].get(msg.key), msg) === 'send') this.queues[side].push({ msg });
    }
  }

  public queued(side: Side): number {
    return this.queues[side].length;
  }

  /** The writer of the direction reading `side` takes the n-th queued message (SQS does not keep order). */
  public deliver(side: Side, n: number, crash: Crash = 'none'): void {
    const queue = this.queues[side];
    if (queue.length === 0) return;
    const i = n % queue.length;
    const { msg } = queue[i]!;
    const other: Side = side === 'a' ? 'b' : 'a';
    const link = this.links[side].get(msg.key);
    const done = () => queue.splice(i, 1);
    // The claim: an older version than the link's is stale; the content the link holds is unchanged.
    if (link?.version !== undefined && BigInt(link.version) > BigInt(msg.version)) return void done();
    if (link?.status === 'ok' && link.hash === msg.hash && link.version !== undefined) return void done();
    const calledAt = this.tick();
    const app = this.apps[other];
    const at = this.tick();
    let target = link?.targetId ? app.records.get(link.targetId) : undefined;
    // No target id: a create, found again by our stamp when an earlier delivery made it (native upsert).
    target ??= [...app.records.values()].find((r) => r.stamp === msg.key);
    if (target) app.edit(target.id, msg.payload, at);
    else target = app.create(msg.payload as Record<string, string | null>, msg.key, at);
    app.writes++;
    if (crash === 'after-target-call') return;
    if (msg.pair)
      this.recordPairWrite(pairWriteOf(pairOf[side], { ...msg, pair: msg.pair }, target.id, calledAt));
    if (crash === 'after-pair-record') return;
    this.links[side].set(
      msg.key,
      link0(msg.key, { status: 'ok', targetId: target.id, hash: msg.hash, version: msg.version }),
    );
    done();
  }

  private recordPairWrite(w: ReturnType<typeof pairWriteOf>): void {
    const partnerSide: Side = w.into;
    if (!this.links[partnerSide].has(w.writtenId)) {
      this.links[partnerSide].set(
        w.writtenId,
        link0(w.writtenId, { status: 'ok', targetId: w.readId, hash: MIRROR_HASH }),
      );
    }
    const e = this.entities.get(w.entity);
    this.entities.set(w.entity, {
      entity: w.entity,
      b: w.b,
      base: { ...(e?.base ?? {}), ...w.agreed },
      writtenAt: { a: e?.writtenAt.a, b: e?.writtenAt.b, [w.into]: w.now },
    });
  }

  /** Loads, runs and drains until a round writes nothing; the number of rounds it took. */
  public async settle(maxRounds = 12): Promise<number> {
    for (let round = 1; round <= maxRounds; round++) {
      const before = this.apps.a.writes + this.apps.b.writes;
      this.load('a');
      this.load('b');
      await this.extract('a');
      await this.extract('b');
      for (const side of ['a', 'b'] as const) while (this.queued(side) > 0) this.deliver(side, 0);
      if (this.apps.a.writes + this.apps.b.writes === before) return round;
    }
    throw new Error(`not settled after ${maxRounds} rounds`);
  }

  /** Each record of app a with its counterpart in app b, through our stamps (who created whom). */
  public counterparts(): { a: AppRecord; b: AppRecord | undefined; matches: number }[] {
    const bs = [...this.apps.b.records.values()];
    return [...this.apps.a.records.values()].map((a) => {
      const matches = bs.filter((b) => b.stamp === a.id || a.stamp === b.id);
      return { a, b: matches[0], matches: matches.length };
    });
  }
}

function link0(key: string, l: Partial<Link>): Link {
  return linkWith({ key, targetId: undefined, hash: undefined, version: undefined, ...l });
}
