/**
 * Types shared by the CloudFormation template engine: the plain value tree a parsed template
 * becomes, the validated template model, the injectable resource-type registry, pseudo
 * parameters, and the one error type every stage throws (`ValidationError`, as CloudFormation).
 */
import { AwsError } from '../../../core/errors.js';

export type TemplateScalar = string | number | boolean | null;
/** A parsed template (or any part of one): JSON-shaped, with every YAML short form in its long form. */
export type TemplateValue = TemplateScalar | TemplateValue[] | TemplateObject;
export interface TemplateObject {
  [key: string]: TemplateValue;
}

/** What `Ref` to a parameter returns: a string, or a list of strings for list types. */
export type ParameterValue = string | string[];

export interface ParameterDeclaration {
  readonly Type: string;
  readonly Default?: string;
  readonly AllowedValues?: readonly string[];
  readonly AllowedPattern?: string;
  readonly ConstraintDescription?: string;
  readonly Description?: string;
  readonly MinLength?: number;
  readonly MaxLength?: number;
  readonly MinValue?: number;
  readonly MaxValue?: number;
  readonly NoEcho: boolean;
}

export interface ResourceDeclaration {
  readonly Type: string;
  /** `{}` when the template has none. */
  readonly Properties: TemplateObject;
  /** Always a list (the template may give one name as a string). */
  readonly DependsOn: readonly string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: TemplateValue;
  readonly CreationPolicy?: TemplateValue;
  readonly UpdatePolicy?: TemplateValue;
}

export interface OutputDeclaration {
  readonly Value: TemplateValue;
  readonly Description?: TemplateValue;
  /** The export's name expression (`Export: {Name: …}`), unresolved. */
  readonly ExportName?: TemplateValue;
  readonly Condition?: string;
}

/** Mapping name → top-level key → second-level key → value. */
export type Mappings = Readonly<Record<string, Readonly<Record<string, Readonly<TemplateObject>>>>>;

/** A template that passed validation. Sections the template leaves out are empty objects. */
export interface Template {
  readonly AWSTemplateFormatVersion?: string;
  readonly Description?: string;
  readonly Metadata?: TemplateValue;
  readonly Parameters: Readonly<Record<string, ParameterDeclaration>>;
  readonly Mappings: Mappings;
  readonly Conditions: Readonly<Record<string, TemplateValue>>;
  /** In template order (object key order). */
  readonly Resources: Readonly<Record<string, ResourceDeclaration>>;
  readonly Outputs: Readonly<Record<string, OutputDeclaration>>;
}

/**
 * What the engine knows about resource types; supplied by the provisioning layer.
 * `attributes` returning undefined means "any attribute is accepted" (e.g. custom resources).
 */
export interface ResourceTypeRegistry {
  has(type: string): boolean;
  attributes(type: string): readonly string[] | undefined;
  /** Top-level properties whose change replaces the resource (a new physical resource). */
  replacementProperties?(type: string): readonly string[] | undefined;
}

/** Values of the `AWS::*` pseudo parameters for one stack. */
export interface PseudoParameters {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly accountId: string;
  /** Derived from the region when omitted (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition?: string;
  /** Derived from the region when omitted (`amazonaws.com`, `amazonaws.com.cn`). */
  readonly urlSuffix?: string;
  readonly notificationArns?: readonly string[];
}

export const PSEUDO_PARAMETER_NAMES: readonly string[] = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
];

/**
 * CloudFormation's `ValidationError`. `message` is the first problem (what AWS would return);
 * `messages` lists every problem found. `path` locates a resolution error in the template
 * (`/Resources/Bucket/Properties/BucketName`) when known.
 */
export class TemplateError extends AwsError {
  readonly messages: readonly string[];
  readonly path?: string;

  constructor(messages: string | readonly string[], path?: string) {
    const list = typeof messages === 'string' ? [messages] : [...messages];
    super('ValidationError', list[0] ?? 'Template format error', 400);
    this.messages = list;
    if (path !== undefined) this.path = path;
  }
}

/** A template body that is not well-formed YAML/JSON; `line`/`column` are 1-based. */
export class TemplateParseError extends TemplateError {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(message);
  }
}

export function isTemplateObject(value: TemplateValue | undefined): value is TemplateObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
