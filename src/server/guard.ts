// Who may call and how much: API keys (Bearer or LibreTranslate's api_key), scopes, token-bucket rates, daily quotas, size limits.
import type { FastifyRequest } from 'fastify';
import type { GeulConfig } from '../core/config.js';
import { geulError } from '../core/errors.js';
import { utcDay, type ApiKey, type ApiKeyStore, type Scope } from '../store/key-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

/** Whether API keys are checked: `auto` means yes unless the server only listens on loopback. */
export function authEnabled(config: GeulConfig): boolean {
  const { auth, host } = config.server;
  return auth === 'required' || (auth === 'auto' && !isLoopback(host));
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : undefined;
  }
  const body = request.body as { api_key?: unknown; apiKey?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.api_key === 'string') return body.api_key;
  // Some LibreTranslate clients spell it apiKey.
  if (body && typeof body === 'object' && typeof body.apiKey === 'string') return body.apiKey;
  return undefined;
}

/** Whether the request has a body, which may carry LibreTranslate's `api_key` field. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const TOUCH_EVERY_MS = 60_000;

export class Guard {
  /** Requests already authorized before their body was read (so the preHandler does not take a second token). */
  private readonly screened = new WeakSet<FastifyRequest>();
  /** What each request was charged, so a server-side failure can be refunded. */
  private readonly charges = new WeakMap<FastifyRequest, { id: string; day: string; amount: number }>();
  /** When this process last recorded each key's use: `last_used_at` is kept to the minute, not written per request. */
  private readonly touched = new Map<string, number>();

  /** `keys` answers every check: with Redis, replicas share keys, revocations, rate buckets and quotas. */
  constructor(readonly enabled: boolean, private readonly keys: ApiKeyStore | undefined, private readonly now: () => number = Date.now) {}

  /**
   * Runs before the body is read, so refusing a stranger costs no parsing: a Bearer key is checked in full now, and a
   * request without one is refused now unless its body may still carry an `api_key` field.
   */
  async screen(request: FastifyRequest, scope: Scope): Promise<void> {
    if (!this.enabled) return;
    if (request.headers.authorization !== undefined) {
      await this.authorize(request, scope);
      this.screened.add(request);
    } else if (!hasBody(request)) throw geulError('UNAUTHORIZED');
  }

  /** Checks the key and scope, then takes one token from the key's rate bucket. */
  async authorize(request: FastifyRequest, scope: Scope): Promise<void> {
    if (!this.enabled || this.screened.has(request)) return;
    const presented = presentedKey(request);
    const key = presented && this.keys ? await this.keys.verify(presented) : undefined;
    if (!key) throw geulError('UNAUTHORIZED');
    if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) throw geulError('FORBIDDEN', { scope });
    request.apiKey = key;
    const now = this.now();
    if (this.keys && now - (this.touched.get(key.id) ?? -Infinity) >= TOUCH_EVERY_MS) {
      this.touched.set(key.id, now);
      await this.keys.touch(key.id, now);
    }
    if (key.rate && this.keys) {
      const taken = await this.keys.takeToken(key.id, key.rate, now);
      if (!taken.ok) throw geulError('RATE_LIMITED', { retryAfter: taken.retryAfterS });
    }
  }

  /** Charges a request's size to the key's daily quota (characters, or estimated tokens); 429 when it would exceed it. */
  async charge(request: FastifyRequest, chars: number, tokens: number): Promise<void> {
    const key = request.apiKey;
    if (!key?.quota || !this.keys) return;
    const now = this.now();
    const amount = key.quota.unit === 'chars' ? chars : tokens;
    const day = utcDay(now);
    if (await this.keys.charge(key.id, day, amount, key.quota.amount)) this.charges.set(request, { id: key.id, day, amount });
    else {
      const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
      throw geulError('QUOTA_EXCEEDED', { quota: `${key.quota.amount} ${key.quota.unit}/day`, retryAfter: Math.ceil((midnight - now) / 1000) });
    }
  }

  /** Where a request's charge went (its key, UTC day and quota unit), if it was charged: a batch refunds lines later. */
  chargeOf(request: FastifyRequest): { key: string; day: string; unit: 'chars' | 'tokens' } | undefined {
    const charge = this.charges.get(request);
    const unit = request.apiKey?.quota?.unit;
    return charge && unit ? { key: charge.id, day: charge.day, unit } : undefined;
  }

  /**
   * Returns a request's charge to its key's quota: a failure on the server's side (5xx) costs the client nothing.
   * Never throws (it runs while an answer is being sent): a store that cannot refund now (Redis down) is logged.
   */
  async refund(request: FastifyRequest): Promise<void> {
    const charge = this.charges.get(request);
    if (!charge || !this.keys) return;
    this.charges.delete(request);
    try {
      await this.keys.refund(charge.id, charge.day, charge.amount);
    } catch (err) {
      request.log.warn({ err, key: charge.id, amount: charge.amount }, 'could not refund a quota charge');
    }
  }
}

/** Strings in a request and their total length; used for limits and quotas before schema validation. */
export function measureTexts(value: unknown, out = { count: 0, chars: 0, longest: 0 }, depth = 0): { count: number; chars: number; longest: number } {
  if (depth > 8) return out;
  if (typeof value === 'string') {
    out.count++;
    out.chars += value.length;
    out.longest = Math.max(out.longest, value.length);
  } else if (Array.isArray(value)) {
    for (const v of value) measureTexts(v, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) measureTexts(v, out, depth + 1);
  }
  return out;
}

/**
 * The server's size limits, checked before the schema: too many inputs or a too-long text → 413 PAYLOAD_TOO_LARGE,
 * too many new tokens → 400 INVALID_INPUT. Returns the request's character count (for quotas).
 */
export function checkLimits(config: GeulConfig, fields: { inputs?: unknown; documents?: unknown; maxNewTokens?: unknown }): number {
  const s = config.server;
  const count = (v: unknown): number => (Array.isArray(v) ? v.length : v === undefined ? 0 : 1);
  if (count(fields.inputs) > s.maxBatch) throw geulError('PAYLOAD_TOO_LARGE', { detail: `at most ${s.maxBatch} inputs per request` });
  if (count(fields.documents) > s.maxBatch * 16) throw geulError('PAYLOAD_TOO_LARGE', { detail: `at most ${s.maxBatch * 16} documents per request` });
  const texts = measureTexts([fields.inputs, fields.documents]);
  if (texts.longest > s.maxTextLength) throw geulError('PAYLOAD_TOO_LARGE', { detail: `texts may be at most ${s.maxTextLength} characters` });
  if (typeof fields.maxNewTokens === 'number' && fields.maxNewTokens > s.maxNewTokens) {
    throw geulError('INVALID_INPUT', { detail: `max_new_tokens may be at most ${s.maxNewTokens} on this server` });
  }
  return texts.chars;
}

/** Quota tokens are estimated before running: about 4 characters per token, plus the tokens asked to generate. */
export function estimateTokens(chars: number, newTokens = 0): number {
  return Math.ceil(chars / 4) + newTokens;
}
