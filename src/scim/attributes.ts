/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): the partial representation
 * a client asks for, on every response that returns users (GET, list, .search, POST, PUT,
 * PATCH). Names are case-insensitive and may carry their schema's URN
 * (`urn:…:core:2.0:User:userName`, `urn:…:enterprise:2.0:User:manager`); a sub-attribute is
 * named with a dot (`name.givenName`, `emails.value`). `id` and `schemas` are always returned
 * (`id` is "returned: always" in RFC 7643 §3.1); every other attribute is "default". Names of
 * attributes tenure does not have select nothing.
 */
import { ScimError } from './errors';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from './schema-names';

export interface AttributeSelection {
  attributes?: string[];
  excludedAttributes?: string[];
}

interface Selector {
  /** The resource key: a core attribute's name (lower-cased) or the extension's URN. */
  key: string;
  /** For an extension: its attribute (lower-cased); undefined = the whole extension. */
  extensionAttribute?: string;
  /** The sub-attribute (lower-cased); undefined = the whole attribute. */
  sub?: string;
}

const ALWAYS = new Set(['id', 'schemas']);
const MAX_NAMES = 100;
const MAX_LENGTH = 2000;
const NAME = /^[A-Za-z0-9:._$-]+$/;

/** Reads a list from a query parameter (comma-separated, possibly repeated) or a SearchRequest (array of strings). */
export function attributeList(value: unknown, parameter: string, from: 'query' | 'body'): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const parts = from === 'query' && typeof value === 'string' ? [value] : from === 'query' && Array.isArray(value) ? value : from === 'body' && Array.isArray(value) ? value : undefined;
  if (!parts || !parts.every((p) => typeof p === 'string')) {
    throw new ScimError(400, from === 'query' ? `${parameter} must be a comma-separated list of attribute names.` : `${parameter} must be an array of attribute names.`, 'invalidValue');
  }
  if ((parts as string[]).join(',').length > MAX_LENGTH) throw new ScimError(400, `${parameter} is longer than ${MAX_LENGTH} characters.`, 'invalidValue');
  const names = (parts as string[]).flatMap((p) => p.split(',')).map((n) => n.trim()).filter(Boolean);
  if (names.length > MAX_NAMES) throw new ScimError(400, `${parameter} names more than ${MAX_NAMES} attributes.`, 'invalidValue');
  const bad = names.find((n) => !NAME.test(n));
  if (bad !== undefined) throw new ScimError(400, `${parameter}: "${bad.slice(0, 100)}" is not an attribute name.`, 'invalidValue');
  return names.length ? names : undefined;
}

function toSelector(name: string): Selector {
  const lower = name.toLowerCase();
  const enterprise = ENTERPRISE_USER_SCHEMA.toLowerCase();
  if (lower === enterprise) return { key: ENTERPRISE_USER_SCHEMA };
  if (lower.startsWith(`${enterprise}:`)) {
    const [attribute, sub] = lower.slice(enterprise.length + 1).split('.', 2);
    return { key: ENTERPRISE_USER_SCHEMA, extensionAttribute: attribute, sub };
  }
  const core = USER_SCHEMA.toLowerCase();
  const path = lower.startsWith(`${core}:`) ? lower.slice(core.length + 1) : lower;
  const [key, sub] = path.split('.', 2);
  return { key: key!, sub };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** Keeps only the named sub-attributes of an object, or of each object of an array. */
function pick(value: unknown, subs: Set<string>): unknown {
  const one = (o: unknown) => (isObject(o) ? Object.fromEntries(Object.entries(o).filter(([k]) => subs.has(k.toLowerCase()))) : o);
  return Array.isArray(value) ? value.map(one).filter((o) => !isObject(o) || Object.keys(o).length) : one(value);
}

/** Drops the named sub-attribute of an object, or of each object of an array. */
function drop(value: unknown, sub: string): unknown {
  const one = (o: unknown) => (isObject(o) ? Object.fromEntries(Object.entries(o).filter(([k]) => k.toLowerCase() !== sub)) : o);
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** Selects within one object by selectors whose `name` is the attribute and `sub` its sub-attribute. */
function include(object: Json, selectors: { name: string; sub?: string }[], keep: (key: string) => boolean): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) {
    if (keep(key)) {
      out[key] = value;
      continue;
    }
    const matching = selectors.filter((s) => s.name === key.toLowerCase());
    if (!matching.length) continue;
    if (matching.some((s) => s.sub === undefined)) out[key] = value;
    else {
      const picked = pick(value, new Set(matching.map((s) => s.sub!)));
      if (!(isObject(picked) && !Object.keys(picked).length) && !(Array.isArray(picked) && !picked.length)) out[key] = picked;
    }
  }
  return out;
}

function exclude(object: Json, selectors: { name: string; sub?: string }[], keep: (key: string) => boolean): Json {
  const out: Json = { ...object };
  for (const key of Object.keys(out)) {
    if (keep(key)) continue;
    for (const s of selectors.filter((x) => x.name === key.toLowerCase())) {
      if (s.sub === undefined) delete out[key];
      else if (key in out) out[key] = drop(out[key], s.sub);
    }
  }
  return out;
}

/** The partial representation of one resource. */
export function selectAttributes<T extends Json>(resource: T, selection: AttributeSelection): Json {
  let out: Json = resource;
  const always = (key: string) => ALWAYS.has(key.toLowerCase());
  const extension = (selectors: Selector[]) => selectors.filter((s) => s.key === ENTERPRISE_USER_SCHEMA && s.extensionAttribute !== undefined).map((s) => ({ name: s.extensionAttribute!, sub: s.sub }));
  const core = (selectors: Selector[]) => selectors.filter((s) => s.key !== ENTERPRISE_USER_SCHEMA).map((s) => ({ name: s.key, sub: s.sub }));
  if (selection.attributes) {
    const selectors = selection.attributes.map(toSelector);
    const wholeExtension = selectors.some((s) => s.key === ENTERPRISE_USER_SCHEMA && s.extensionAttribute === undefined);
    const ext = out[ENTERPRISE_USER_SCHEMA];
    out = include(out, core(selectors), always);
    if (isObject(ext)) {
      const selected = wholeExtension ? ext : include(ext, extension(selectors), () => false);
      if (Object.keys(selected).length) out[ENTERPRISE_USER_SCHEMA] = selected;
    }
  }
  if (selection.excludedAttributes) {
    const selectors = selection.excludedAttributes.map(toSelector);
    const ext = out[ENTERPRISE_USER_SCHEMA];
    out = exclude(out, core(selectors), always);
    if (isObject(ext)) {
      if (selectors.some((s) => s.key === ENTERPRISE_USER_SCHEMA && s.extensionAttribute === undefined)) delete out[ENTERPRISE_USER_SCHEMA];
      else {
        const left = exclude(ext, extension(selectors), () => false);
        if (Object.keys(left).length) out[ENTERPRISE_USER_SCHEMA] = left;
        else delete out[ENTERPRISE_USER_SCHEMA];
      }
    }
  }
  // `schemas` names the extension only while the response carries it.
  if (!(ENTERPRISE_USER_SCHEMA in out) && Array.isArray(out.schemas)) out.schemas = out.schemas.filter((u) => u !== ENTERPRISE_USER_SCHEMA);
  return out;
}
