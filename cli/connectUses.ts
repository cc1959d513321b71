import type { WritebackConfig } from '../shared/config/schema.ts';
import type { SyncUse } from '../shared/oauth/CredentialCheck.ts';

/** What the configured syncs do through a connection: each one's object, deletes and associations. */
export function syncUses(config: WritebackConfig, connection: string): SyncUse[] {
  return config.syncs
    .filter((s) => s.target.connection === connection)
    .map((s) => ({
      sync: s.name,
      object: s.target.object,
      ...(s.deletes ? { archive: true } : {}),
      ...(s.target.associate ? { associateWith: s.target.associate.with } : {}),
    }));
}
