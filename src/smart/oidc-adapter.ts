// oidc-provider's storage adapter over PostgreSQL (table oauth_models, migrations/005): the
// "Adapter" interface of oidc-provider 8. Every model kind shares one table. Bearer artifacts are
// keyed by the SHA-256 of their id, so the table holds nothing that could be replayed.
import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Queryable } from '../db/database.js';

/** Told when tokens stop being valid, so caches of validated tokens can drop them at once. */
export interface RevocationListener {
  (event: { kind: string; id?: string; grantId?: string }): void;
}

// Clients are looked up and listed by their public id; everything else is a secret or a handle.
const PLAIN_KINDS = new Set(['Client']);

/** The row key of a model id: SHA-256 for bearer artifacts, the id itself for clients. */
export function modelKey(kind: string, id: string): string {
  return PLAIN_KINDS.has(kind) ? id : createHash('sha256').update(id).digest('base64url');
}

/** Makes the adapter class oidc-provider instantiates once per model kind. */
export function pgAdapter(db: Queryable, onRevoke?: RevocationListener): new (name: string) => Adapter {
  return class PgAdapter implements Adapter {
    constructor(readonly name: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expires = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await db.query(
        `INSERT INTO oauth_models (kind, id, payload, grant_id, uid, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
        [this.name, modelKey(this.name, id), JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, expires],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.one('id = $2', [modelKey(this.name, id)]);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.one('uid = $2', [uid]);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.one(`payload->>'userCode' = $2`, [userCode]);
    }

    async consume(id: string): Promise<void> {
      await db.query(`UPDATE oauth_models SET consumed_at = now() WHERE kind = $1 AND id = $2`, [this.name, modelKey(this.name, id)]);
      onRevoke?.({ kind: this.name, id });
    }

    async destroy(id: string): Promise<void> {
      await db.query(`DELETE FROM oauth_models WHERE kind = $1 AND id = $2`, [this.name, modelKey(this.name, id)]);
      onRevoke?.({ kind: this.name, id });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query(`DELETE FROM oauth_models WHERE kind = $1 AND grant_id = $2`, [this.name, grantId]);
      onRevoke?.({ kind: this.name, grantId });
    }

    private async one(where: string, params: unknown[]): Promise<AdapterPayload | undefined> {
      const rows = await db.query<{ payload: AdapterPayload; consumed: number | null }>(
        `SELECT payload, extract(epoch FROM consumed_at)::bigint AS consumed FROM oauth_models
         WHERE kind = $1 AND ${where} AND (expires_at IS NULL OR expires_at > now()) LIMIT 1`,
        [this.name, ...params],
      );
      const row = rows[0];
      if (!row) return undefined;
      return row.consumed ? { ...row.payload, consumed: Number(row.consumed) } : row.payload;
    }
  };
}

/** Deletes expired artifacts (run now and then; expired rows are already invisible to `find`). */
export async function purgeExpired(db: Queryable): Promise<number> {
  const rows = await db.query(`DELETE FROM oauth_models WHERE expires_at < now() - interval '1 hour' RETURNING 1`);
  await db.query(`DELETE FROM smart_launches WHERE expires_at < now()`);
  await db.query(`DELETE FROM smart_grant_contexts WHERE expires_at < now()`);
  return rows.length;
}
