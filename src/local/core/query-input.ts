/**
 * The Query protocol's decoded input as services read it: a tree of strings (leaves), lists
 * (`member.N`) and structures, and typed readers over it. The codec (protocol/query.ts) builds the
 * tree; a Query service's wire file reads its members with these, so it never imports the codec.
 */
import { AwsError } from './errors.js';

/** A decoded Query request body: strings at the leaves, lists for `member.N`, objects elsewhere. */
export type QueryValue = string | QueryValue[] | QueryObject;
export interface QueryObject {
  [key: string]: QueryValue;
}

export function isQueryObject(value: QueryValue | undefined): value is QueryObject {
  return typeof value === 'object' && !Array.isArray(value);
}

function invalid(name: string, expected: string): AwsError {
  return new AwsError('ValidationError', `Invalid value for parameter ${name}: expected ${expected}.`);
}

export function queryString(input: QueryObject, name: string): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'a string');
  return value;
}

export function queryBoolean(input: QueryObject, name: string): boolean | undefined {
  const value = queryString(input, name);
  if (value === undefined || value === '') return undefined;
  if (value !== 'true' && value !== 'false') throw invalid(name, 'true or false');
  return value === 'true';
}

export function queryInteger(input: QueryObject, name: string): number | undefined {
  const value = queryString(input, name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(name, 'an integer');
  return Number(value);
}

/** A list member; `Name=` (how SDKs send an empty list) is an empty list. */
export function queryList(input: QueryObject, name: string): QueryValue[] | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (value === '') return [];
  if (!Array.isArray(value)) throw invalid(name, 'a list');
  return value;
}

export function queryStringList(input: QueryObject, name: string): string[] | undefined {
  const list = queryList(input, name);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (typeof item !== 'string') throw invalid(name, 'a list of strings');
    return item;
  });
}

/** A list of structures (each a `QueryObject`). */
export function queryObjectList(input: QueryObject, name: string): QueryObject[] | undefined {
  const list = queryList(input, name);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (!isQueryObject(item)) throw invalid(name, 'a list of structures');
    return item;
  });
}

export function queryObject(input: QueryObject, name: string): QueryObject | undefined {
  const value = input[name];
  if (value === undefined || value === '') return undefined;
  if (!isQueryObject(value)) throw invalid(name, 'a structure');
  return value;
}
