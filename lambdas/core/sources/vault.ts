import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/**
 * Where sources' signing keys live: Secrets Manager in the cloud, a file in local mode's data
 * directory. Keys are needed in clear to compute HMACs, so they are never hashed, never in
 * DynamoDB, never logged.
 */
export interface SigningKeyVault {
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Secret names: `herald/source/<bucket id>/<source>`. */
export function signingKeyName(bucketId: string, source: string): string {
  return `herald/source/${bucketId}/${source}`;
}

/** How long a Lambda container reuses a fetched key; a rotated key takes effect within this time. */
const CACHE_MS = 5 * 60 * 1000;

export class SecretsManagerVault implements SigningKeyVault {
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();

  constructor(private readonly secrets: SecretsManagerClient = new SecretsManagerClient({})) {}

  async get(name: string): Promise<string | undefined> {
    const cached = this.cache.get(name);
    if (cached && cached.until > Date.now()) return cached.value;
    let value: string | undefined;
    try {
      value = (await this.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    this.cache.set(name, { value, until: Date.now() + CACHE_MS });
    return value;
  }

  async put(name: string, value: string): Promise<void> {
    try {
      await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      await this.secrets.send(
        new CreateSecretCommand({ Name: name, SecretString: value, Description: 'Herald: signing key of a webhook source' }),
      );
    }
    this.cache.delete(name);
  }

  async delete(name: string): Promise<void> {
    try {
      await this.secrets.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    this.cache.delete(name);
  }
}

/**
 * Local mode: a JSON file (mode 0600) in the data directory, or memory only. Read on every get, so
 * a key set with the CLI while Herald runs takes effect at once.
 */
export class FileVault implements SigningKeyVault {
  private readonly values = new Map<string, string>();

  constructor(private readonly file?: string) {
    this.load();
  }

  async get(name: string): Promise<string | undefined> {
    this.load();
    return this.values.get(name);
  }

  private load(): void {
    if (!this.file || !existsSync(this.file)) return;
    this.values.clear();
    for (const [name, value] of Object.entries(JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>)) {
      this.values.set(name, value);
    }
  }

  async put(name: string, value: string): Promise<void> {
    this.load();
    this.values.set(name, value);
    this.save();
  }

  async delete(name: string): Promise<void> {
    this.load();
    this.values.delete(name);
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.values)), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
