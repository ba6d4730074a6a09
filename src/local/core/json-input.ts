/**
 * Reading members of an AWS JSON request body for services whose validation errors are
 * `InvalidInputException` (Glue, Personalize): a wrong or missing member names itself.
 */
import { AwsError } from './errors.js';

export type Input = Record<string, unknown>;

export function invalid(message: string): AwsError {
  return new AwsError('InvalidInputException', message);
}

export function str(input: Input, name: string, required: true): string;
export function str(input: Input, name: string, required?: false): string | undefined;
export function str(input: Input, name: string, required = false): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required) throw invalid(`${name} is required.`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`${name} must be a string.`);
  if (required && value === '') throw invalid(`${name} must not be empty.`);
  return value;
}

/**
 * An AWS-shaped request (typed with the SDK's request type at the wire) as the members the
 * readers above check one by one: on the wire it is untrusted JSON, whatever its static type says.
 */
export function members(input: object): Input {
  return input as Input;
}
