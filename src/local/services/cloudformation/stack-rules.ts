/**
 * CloudFormation's rules as plain functions: its errors, stack and change-set name checks, page
 * tokens, capabilities, tags, parameter comparison and what a status a restart interrupted becomes.
 */
import { AwsError } from '../../core/errors.js';
import { MASKED_PARAMETER_VALUE, requiredCapabilities, type Template } from './template/index.js';
import {
  type ChangeSetRecord,
  type ParameterRecord,
  type StackRecord,
  type StackStatus,
  type Tag,
} from './types.js';

export const PAGE_SIZE = 100;
export const MAX_TEMPLATE_BODY = 51200;
export const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/;
export const CAPABILITIES = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'];
export const NO_CHANGES_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set.";

export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message, 400);
}

export function stackNotFound(name: string): AwsError {
  return validationError(`Stack with id ${name} does not exist`);
}

export function changeSetNotFound(name: string): AwsError {
  return new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404);
}

export function checkName(name: string | undefined, member: 'stackName' | 'changeSetName'): string {
  if (name === undefined || name === '') {
    throw validationError(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!STACK_NAME.test(name) || name.length > 128) {
    throw validationError(
      `1 validation error detected: Value '${name}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
    );
  }
  return name;
}

export function encodeToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64');
}

export function decodeToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!match) throw validationError('Invalid NextToken');
  return Number(match[1]);
}

export function page<T>(items: readonly T[], token: string | undefined): { items: T[]; NextToken?: string } {
  const start = decodeToken(token);
  const slice = items.slice(start, start + PAGE_SIZE);
  return start + PAGE_SIZE < items.length
    ? { items: slice, NextToken: encodeToken(start + PAGE_SIZE) }
    : { items: slice };
}

export function isExecuted(changeSet: ChangeSetRecord): boolean {
  return changeSet.executionStatus === 'EXECUTE_COMPLETE' || changeSet.executionStatus === 'EXECUTE_FAILED';
}

export function isDeleted(stack: StackRecord): boolean {
  return stack.status === 'DELETE_COMPLETE';
}

/** What a stack is left in when its operation stopped mid-way (crash, restart, internal error). */
export function interruptedStatus(status: StackStatus): StackStatus {
  switch (status) {
    case 'CREATE_IN_PROGRESS':
      return 'CREATE_FAILED';
    case 'ROLLBACK_IN_PROGRESS':
      return 'ROLLBACK_FAILED';
    case 'DELETE_IN_PROGRESS':
      return 'DELETE_FAILED';
    case 'UPDATE_IN_PROGRESS':
    case 'UPDATE_ROLLBACK_IN_PROGRESS':
      return 'UPDATE_ROLLBACK_FAILED';
    case 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS':
      return 'UPDATE_COMPLETE';
    case 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS':
      return 'UPDATE_ROLLBACK_COMPLETE';
    case 'IMPORT_IN_PROGRESS':
    case 'IMPORT_ROLLBACK_IN_PROGRESS':
      return 'IMPORT_ROLLBACK_FAILED';
    default:
      return status;
  }
}

export function checkCapabilities(template: Template, given: readonly string[]): void {
  for (const capability of given) {
    if (!CAPABILITIES.includes(capability)) {
      throw validationError(
        `1 validation error detected: Value '[${given.join(', ')}]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]`,
      );
    }
  }
  const required = requiredCapabilities(template);
  const named = given.includes('CAPABILITY_NAMED_IAM');
  if (required.includes('CAPABILITY_NAMED_IAM') && !named) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_NAMED_IAM]');
  }
  if (required.includes('CAPABILITY_IAM') && !named && !given.includes('CAPABILITY_IAM')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]');
  }
}

export function capabilitiesReason(template: Template): string | undefined {
  const types = [
    ...new Set(
      Object.values(template.Resources)
        .map((resource) => resource.Type)
        .filter((type) => type.startsWith('AWS::IAM::')),
    ),
  ];
  return types.length === 0
    ? undefined
    : `The following resource(s) require capabilities: [${types.join(', ')}]`;
}

export function checkTags(tags: readonly Tag[] | undefined): Tag[] {
  const list = tags ?? [];
  if (list.length > 50) throw validationError('Number of tags exceeds the limit of 50');
  for (const tag of list) {
    if (typeof tag.Key !== 'string' || tag.Key === '' || typeof tag.Value !== 'string') {
      throw validationError('Tags must have a Key and a Value');
    }
  }
  return list.map((tag) => ({ Key: tag.Key, Value: tag.Value }));
}

export function describeParameterList(
  parameters: readonly ParameterRecord[],
  noEcho: readonly string[],
): Array<{ ParameterKey: string; ParameterValue: string }> {
  return parameters.map(({ key, value }) => ({
    ParameterKey: key,
    ParameterValue: noEcho.includes(key) ? MASKED_PARAMETER_VALUE : value,
  }));
}

export function sameParameters(left: readonly ParameterRecord[], right: readonly ParameterRecord[]): boolean {
  return (
    left.length === right.length &&
    left.every((entry) => right.some((other) => other.key === entry.key && other.value === entry.value))
  );
}

export function sameTags(left: readonly Tag[], right: readonly Tag[]): boolean {
  return (
    left.length === right.length &&
    left.every((tag) => right.some((other) => other.Key === tag.Key && other.Value === tag.Value))
  );
}
