/**
 * The template of the resource import that adopts a bucket `destroy` kept: the stack template's
 * bucket resource as the template declares it (same properties; DeletionPolicy Retain, so an import
 * that rolls back can never delete it), the parameters it reads, and nothing else — CloudFormation
 * refuses an import that adds other resources or any Outputs. The normal update that follows
 * brings the rest of the template.
 */
import { parse as parseYaml } from 'yaml';
import { cloudFormationYamlTags } from '../../shared/cloudformation-yaml.js';
import { MlpipeError } from '../cli/errors.js';

export interface BucketImportTemplate {
  /** The template, as JSON. */
  body: string;
  /** The template parameters the bucket's declaration reads (their values are passed as deployed). */
  parameterKeys: string[];
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `${Name}` references in an Fn::Sub string (`${!Literal}` is not one; `${Res.Attr}` is an attribute). */
function subNames(text: string): string[] {
  return [...text.matchAll(/\$\{([^}!][^}]*)\}/g)].map((match) => match[1]!.trim());
}

export function parseTemplateText(body: string): { [key: string]: Json } {
  const parsed = (
    body.trimStart().startsWith('{')
      ? JSON.parse(body)
      : parseYaml(body, { customTags: cloudFormationYamlTags() })
  ) as Json;
  if (!isObject(parsed)) throw new Error('the template is not a mapping');
  return parsed;
}

/**
 * Builds the import template for `logicalId` (an AWS::S3::Bucket) of a stack template (YAML with
 * short forms, or JSON). A declaration that needs more than parameters and mappings (another
 * resource, a condition) cannot be imported on its own: that is an error saying so.
 */
export function bucketImportTemplate(
  templateBody: string,
  logicalId: string,
  file: string,
): BucketImportTemplate {
  let template: { [key: string]: Json };
  try {
    template = parseTemplateText(templateBody);
  } catch (error) {
    throw new MlpipeError(`Reading template ${file} for the resource import: ${(error as Error).message}`, {
      code: 'TEMPLATE_UNREADABLE',
    });
  }
  const resources = isObject(template.Resources) ? template.Resources : {};
  const declaration = resources[logicalId];
  if (!isObject(declaration) || declaration.Type !== 'AWS::S3::Bucket') {
    throw new MlpipeError(`Template ${file} declares no AWS::S3::Bucket named ${logicalId} to import.`, {
      code: 'IMPORT_NOT_POSSIBLE',
    });
  }
  const declaredParameters = isObject(template.Parameters) ? template.Parameters : {};
  const parameterKeys = new Set<string>();
  const blockers = new Set<string>();
  let mappings = false;
  const reference = (name: string): void => {
    if (name.startsWith('AWS::')) return;
    if (Object.hasOwn(declaredParameters, name)) parameterKeys.add(name);
    else blockers.add(name.split('.')[0]!);
  };
  const walk = (value: Json): void => {
    if (Array.isArray(value)) {
      value.forEach((item) => walk(item));
      return;
    }
    if (!isObject(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') reference(inner);
      else if (key === 'Fn::GetAtt') blockers.add(Array.isArray(inner) ? String(inner[0]) : String(inner));
      else if (key === 'Fn::If' || key === 'Condition') blockers.add(`condition ${JSON.stringify(inner)}`);
      else if (key === 'Fn::FindInMap') {
        mappings = true;
        walk(inner);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(inner) ? [inner[0], inner[1]] : [inner, undefined];
        const own = new Set(isObject(variables) ? Object.keys(variables) : []);
        if (typeof text === 'string') for (const name of subNames(text)) if (!own.has(name)) reference(name);
        if (variables !== undefined) walk(variables);
      } else walk(inner);
    }
  };
  walk(declaration.Properties ?? null);
  if (declaration.Condition !== undefined) blockers.add(`condition ${String(declaration.Condition)}`);
  for (const dependency of [declaration.DependsOn ?? []].flat()) blockers.add(String(dependency));
  if (blockers.size > 0) {
    throw new MlpipeError(
      `The bucket ${logicalId} in ${file} cannot be imported on its own: its declaration refers to ${[...blockers].join(', ')}.`,
      { code: 'IMPORT_NOT_POSSIBLE' },
    );
  }
  const importTemplate: { [key: string]: Json } = {
    AWSTemplateFormatVersion: '2010-09-09',
    ...(template.Description !== undefined ? { Description: template.Description } : {}),
    Parameters: Object.fromEntries(
      Object.entries(declaredParameters).filter(([key]) => parameterKeys.has(key)),
    ),
    ...(mappings && template.Mappings !== undefined ? { Mappings: template.Mappings } : {}),
    Resources: { [logicalId]: { ...declaration, DeletionPolicy: 'Retain' } },
  };
  return { body: JSON.stringify(importTemplate, null, 2), parameterKeys: [...parameterKeys].sort() };
}
