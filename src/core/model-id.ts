// Parses and validates model references (Hub ids or explicit local folders), revisions and repo file paths.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { geulError } from './errors.js';

/** A Hugging Face Hub repository: `name` or `owner/name`. */
export interface HubModelRef {
  kind: 'hub';
  /** The canonical id, `owner/name` or `name`. */
  id: string;
  owner?: string;
  name: string;
}

/** A model folder on disk in the transformers.js layout (config.json, onnx/…). */
export interface LocalModelRef {
  kind: 'local';
  /** What the user typed. */
  id: string;
  /** Absolute path of the folder (`~` expanded). */
  path: string;
}

export type ModelRef = HubModelRef | LocalModelRef;

/** Hub rules for one id part: letters, digits, `-`, `_`, `.`; at most 96 characters. */
const PART = /^[A-Za-z0-9_.-]+$/;
const MAX_PART = 96;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const LOCAL_PREFIXES = ['/', './', '../', '~/'];

function invalid(model: string, detail: string): never {
  throw geulError('INVALID_MODEL_ID', { model: model.replace(/\0/g, '\\0'), detail });
}

/** Problems every model reference is checked for, local or not: empty, NUL, backslashes, URL schemes. */
function checkCommon(input: string): void {
  if (typeof input !== 'string' || input.trim() === '') invalid(String(input ?? ''), 'empty model id');
  if (input.includes('\0')) invalid(input, 'contains a NUL character');
  if (input.includes('\\')) invalid(input, 'backslashes are not allowed (use "/")');
  if (SCHEME.test(input)) invalid(input, 'URLs are not model ids; use a hub id like "owner/name" (set --hub-url for mirrors) or a local folder');
  if (input !== input.trim()) invalid(input, 'leading or trailing whitespace');
}

function checkPart(input: string, part: string, what: string): void {
  if (part === '') invalid(input, `empty ${what}`);
  if (part.length > MAX_PART) invalid(input, `${what} is longer than ${MAX_PART} characters`);
  if (!PART.test(part)) invalid(input, `${what} may only contain letters, digits, "-", "_" and "."`);
  if (part.includes('..')) invalid(input, `${what} must not contain ".."`);
  if (/^[.-]|[.-]$/.test(part)) invalid(input, `${what} must not start or end with "." or "-"`);
}

/** Validates a Hugging Face Hub id (`name` or `owner/name`); local paths are rejected with a reason. */
export function parseHubId(input: string): HubModelRef {
  checkCommon(input);
  if (isAbsolute(input) || input.startsWith('/')) invalid(input, 'an absolute path is not a hub id (local folders are not pulled from the hub)');
  if (input.startsWith('~')) invalid(input, 'a home-relative path is not a hub id');
  const parts = input.split('/');
  if (parts.includes('..') || parts.includes('.')) invalid(input, '"." and ".." segments are not allowed in hub ids');
  if (parts.includes('')) invalid(input, 'empty owner or name (expected "owner/name")');
  if (parts.length > 2) invalid(input, 'too many "/" (expected "owner/name")');
  if (parts.length === 2) {
    checkPart(input, parts[0], 'owner');
    checkPart(input, parts[1], 'name');
    return { kind: 'hub', id: input, owner: parts[0], name: parts[1] };
  }
  checkPart(input, parts[0], 'name');
  return { kind: 'hub', id: input, name: parts[0] };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Parses what users type as a model: an explicit local folder (starts with `/`, `./`, `../`, `~/`,
 * or names an existing directory relative to `cwd`) or else a hub id. Throws INVALID_MODEL_ID with a reason.
 * Local folders are not checked for existence here (ensureModelFiles does that).
 */
export function parseModelRef(input: string, options: { cwd?: string; home?: string } = {}): ModelRef {
  checkCommon(input);
  const cwd = options.cwd ?? process.cwd();
  if (input === '~' || input.startsWith('~/')) {
    return { kind: 'local', id: input, path: resolve(join(options.home ?? homedir(), input.slice(1))) };
  }
  if (input === '.' || input === '..' || LOCAL_PREFIXES.some((p) => input.startsWith(p))) {
    return { kind: 'local', id: input, path: resolve(cwd, input) };
  }
  if (isDirectory(resolve(cwd, input))) return { kind: 'local', id: input, path: resolve(cwd, input) };
  return parseHubId(input);
}

/** True when the reference is a well-formed hub id (no I/O, never throws). */
export function isHubId(input: string): boolean {
  try {
    parseHubId(input);
    return true;
  } catch {
    return false;
  }
}

// Characters git refuses in ref names, plus the ones that would be awkward in URLs and folders.
const BAD_REVISION_CHARS = /[ ~^:?*[\\\]#%"<>|{}]/;

/** True for ASCII control characters (NUL … US, DEL). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Validates a revision (branch, tag or 40-hex commit); throws INVALID_MODEL_ID naming the model. */
export function validateRevision(revision: string, model = '?'): string {
  const fail = (detail: string): never => invalid(model, `revision "${revision}": ${detail}`);
  if (typeof revision !== 'string' || revision === '') fail('empty revision');
  if (revision.length > 255) fail('longer than 255 characters');
  if (hasControl(revision) || BAD_REVISION_CHARS.test(revision)) fail('contains characters not allowed in a branch, tag or commit');
  if (revision.startsWith('/') || revision.endsWith('/')) fail('must not start or end with "/"');
  if (revision.startsWith('-')) fail('must not start with "-"');
  if (revision.includes('..')) fail('must not contain ".."');
  if (revision.includes('@{')) fail('must not contain "@{"');
  if (revision.split('/').some((s) => s === '' || s === '.' || s.endsWith('.lock'))) fail('has an empty, "." or ".lock" segment');
  return revision;
}

/** True for a full 40-hex commit id. */
export function isCommitSha(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * Checks a file path inside a repo (`config.json`, `onnx/model.onnx`): relative, `/`-separated,
 * no empty, `.` or `..` segments, no backslashes or control characters. Returns an error reason or undefined.
 */
export function repoPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path === '') return 'empty file name';
  if (path.length > 1024) return 'file name too long';
  if (hasControl(path) || path.includes('\\')) return 'control characters or backslashes in file name';
  if (path.startsWith('/')) return 'absolute file name';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'empty, "." or ".." segment in file name';
  return undefined;
}

/** Throws INVALID_INPUT when `path` is not a safe file path inside a repo. */
export function checkRepoPath(path: string): string {
  const problem = repoPathProblem(path);
  if (problem) throw geulError('INVALID_INPUT', { detail: `${problem}: "${String(path).replace(/\0/g, '\\0')}"` });
  return path;
}
