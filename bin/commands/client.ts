import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Command } from 'commander';
import { CliError } from './output';
import { findStack, isMissingCredentials, NO_CREDENTIALS } from './stack';

/** Where the CLI finds Herald: a local Herald (`--local [url]`) or the deployed stack. */
export interface TargetOptions {
  readonly local?: string | boolean;
  readonly stack: string;
  readonly region?: string;
}

/** Adds the options every API command shares: where Herald is, and `--json`. */
export function targetOptions(command: Command): Command {
  return command
    .option('--local [url]', 'use a local Herald (npm start) instead of the deployed stack (default: http://127.0.0.1:$PORT, or 8787)')
    .option('--stack <name>', 'the deployed CloudFormation stack', 'Herald')
    .option('--region <region>', "the stack's AWS region (default: the SDK's chain)")
    .option('--json', 'print JSON for scripts');
}

/** Local mode checks SigV4 with these fixed credentials, as the deployed API checks IAM. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const LOCAL_REGION = 'us-east-1';
const REQUEST_TIMEOUT_MS = 30_000;

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface RequestInit {
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly query?: Record<string, string | number | undefined>;
  readonly headers?: Record<string, string>;
}

/** A connection to one Herald: its base URL, the signed admin API and the public API. */
export interface HeraldClient {
  /** The base URL, without a trailing slash (webhook URLs are built on it). */
  readonly url: string;
  /** An admin API request (`/admin/…`), signed with SigV4 for `execute-api`. */
  admin<T>(method: string, path: string, init?: RequestInit): Promise<T>;
  /** A public API request (authorized by a bucket token in `init.headers`), never signed. */
  call<T>(method: string, path: string, init?: RequestInit): Promise<T>;
}

/** `/admin/buckets/{bucket}/…`: each segment URL-encoded. */
export function adminPath(...segments: string[]): string {
  return `/admin/${segments.map(encodeURIComponent).join('/')}`;
}

/** The URL to paste into an authentik "Webhook (generic)" notification transport. */
export function authentikWebhookUrl(client: HeraldClient, magicCode: string): string {
  return `${client.url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=${encodeURIComponent(magicCode)}`;
}

/**
 * Connects to a local Herald with `--local`, otherwise to the deployed stack: its URL from the
 * `ApiUrl` output, its requests signed with the standard AWS credential chain.
 */
export async function connect(options: TargetOptions): Promise<HeraldClient> {
  if (options.local !== undefined && options.local !== false) {
    const url = typeof options.local === 'string' ? options.local : `http://127.0.0.1:${process.env.PORT ?? 8787}`;
    if (!/^https?:\/\/[^/]/.test(url)) throw new CliError(`--local must be a URL like http://127.0.0.1:8787 (given "${url}")`);
    return createClient(url, new SignatureV4({ service: 'execute-api', region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, sha256: Sha256 }), true);
  }
  const { outputs, region } = await findStack(options);
  const url = outputs.ApiUrl;
  if (!url) throw new CliError(`stack "${options.stack}" has no ApiUrl output: is it a Herald stack? (pass --stack)`);
  // The chain the AWS CLI and SDKs use: environment, SSO, shared files, process, container, instance.
  const chain = defaultProvider();
  const credentials = async (): Promise<Credentials> => {
    try {
      return await chain();
    } catch (error) {
      if (isMissingCredentials(error)) throw new CliError(NO_CREDENTIALS);
      throw error;
    }
  };
  return createClient(url, new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 }), false);
}

function createClient(baseUrl: string, signer: SignatureV4, local: boolean): HeraldClient {
  const url = baseUrl.replace(/\/+$/, '');
  const request = async <T>(method: string, path: string, init: RequestInit, signed: boolean): Promise<T> => {
    const target = new URL(url + path);
    for (const [name, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) target.searchParams.set(name, String(value));
    }
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    let headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
    if (signed) headers = await sign(signer, method, target, headers, body);
    let response: Response;
    try {
      response = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw unreachable(url, local, error);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new CliError(describeFailure(response.status, parsed, text, signed));
    return parsed as T;
  };
  return {
    url,
    admin: (method, path, init = {}) => request(method, path, init, true),
    call: (method, path, init = {}) => request(method, path, init, false),
  };
}

/** The headers to send: the given ones plus the SigV4 `authorization` and `x-amz-*` headers. */
async function sign(signer: SignatureV4, method: string, target: URL, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
  // `host` is signed but not sent by hand: fetch sends the same value (host[:port]) itself.
  const signed = await signer.sign({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { ...headers, host: target.host },
    body,
  });
  const { host: _host, ...sent } = signed.headers;
  return sent;
}

function unreachable(url: string, local: boolean, error: unknown): CliError {
  if ((error as Error).name === 'TimeoutError') return new CliError(`Herald at ${url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  if (local) return new CliError(`no local Herald answers at ${url}: start it with "npm start"`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(`could not reach Herald at ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
}

/** Herald's `{error, message}` as its message; API Gateway's own refusals (IAM) say what to grant. */
function describeFailure(status: number, parsed: unknown, text: string, signed: boolean): string {
  const { error, message } = (parsed ?? {}) as { error?: unknown; message?: unknown };
  if (typeof error === 'string' && typeof message === 'string') return message;
  if (typeof message === 'string') {
    if (signed && status === 403) return `the admin API refused the request: ${message} (the caller needs execute-api:Invoke on the Herald API)`;
    return `Herald answered HTTP ${status}: ${message}`;
  }
  return `Herald answered HTTP ${status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
}
