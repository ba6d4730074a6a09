/**
 * CloudFormation's YAML short forms (`!Ref`, `!GetAtt`, `!Sub`, …) as custom tags of the `yaml`
 * package, each resolving to its long form (`{"Ref": …}`, `{"Fn::GetAtt": [...]}`). Shared by the
 * local stack's template parser and the CLI (which rewrites a template as JSON for a resource import).
 */
import { Pair, Scalar, YAMLMap, type CollectionTag, type ScalarTag } from 'yaml';

/** Short forms CloudFormation defines, by tag name without the `!`. */
export const SHORT_FORM_TAGS: readonly string[] = [
  'And',
  'Base64',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
];

function longFormKey(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

/** `!GetAtt Res.Attr` → `[Res, Attr]`; nested attribute names keep their dots (`Endpoint.Address`). */
function getAttArguments(text: string): string[] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}

function wrapCollection(key: string, collection: unknown): YAMLMap {
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar(key), collection));
  return map;
}

/** The `customTags` for `yaml`'s parse functions. */
export function cloudFormationYamlTags(): Array<ScalarTag | CollectionTag> {
  return SHORT_FORM_TAGS.flatMap((name): Array<ScalarTag | CollectionTag> => {
    const key = longFormKey(name);
    const tag = `!${name}`;
    return [
      {
        tag,
        resolve: (text: string): Record<string, string | string[]> => ({
          [key]: name === 'GetAtt' ? getAttArguments(text) : text,
        }),
      },
      { tag, collection: 'seq', resolve: (seq) => wrapCollection(key, seq) },
      { tag, collection: 'map', resolve: (map) => wrapCollection(key, map) },
    ];
  });
}
