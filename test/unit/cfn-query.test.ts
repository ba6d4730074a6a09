// The AWS Query codec: flattened request parameters → a tree, and results/errors → Query XML.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { AwsError } from '../../src/local/core/errors.js';
import { decodeQueryRequest, encodeQueryError, encodeQueryResult } from '../../src/local/protocol/query.js';
import {
  queryBoolean,
  queryInteger,
  queryObjectList,
  queryStringList,
} from '../../src/local/core/query-input.js';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** Decoded members have no prototype (nothing can be written through __proto__); compare their contents. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
describe('decodeQueryRequest', () => {
  it('turns member.N lists of structures and scalars into arrays, in numeric order', () => {
    const params = new URLSearchParams();
    params.append('Action', 'CreateStack');
    params.append('Version', '2010-05-15');
    params.append('StackName', 'lake');
    for (let i = 1; i <= 11; i++) {
      params.append(`Parameters.member.${i}.ParameterKey`, `P${i}`);
      params.append(`Parameters.member.${i}.ParameterValue`, `v=${i}&x`);
    }
    params.append('Parameters.member.3.UsePreviousValue', 'true');
    params.append('Capabilities.member.2', 'CAPABILITY_NAMED_IAM');
    params.append('Capabilities.member.1', 'CAPABILITY_IAM');
    params.append('Tags.member.1.Key', 'team');
    params.append('Tags.member.1.Value', '');
    const request = decodeQueryRequest(new URLSearchParams(params.toString()));
    assert.equal(request.action, 'CreateStack');
    assert.equal(request.version, '2010-05-15');
    assert.equal(request.input.StackName, 'lake');
    const parameters = queryObjectList(request.input, 'Parameters') ?? [];
    assert.equal(parameters.length, 11);
    assert.deepEqual(plain(parameters[2]), {
      ParameterKey: 'P3',
      ParameterValue: 'v=3&x',
      UsePreviousValue: 'true',
    });
    assert.equal(parameters[10]?.ParameterKey, 'P11', 'member.11 comes after member.2');
    assert.deepEqual(queryStringList(request.input, 'Capabilities'), [
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
    ]);
    assert.deepEqual(plain(queryObjectList(request.input, 'Tags')), [{ Key: 'team', Value: '' }]);
  });

  it('reads `Name=` as an empty list (how SDKs send one) and entry.N maps as objects', () => {
    const request = decodeQueryRequest(
      new URLSearchParams(
        'Action=X&Parameters=&Tags=&Tags.member.1.Key=k&Tags.member.1.Value=v&M.entry.1.key=a&M.entry.1.value=1&M.entry.2.key=b&M.entry.2.value=2',
      ),
    );
    assert.deepEqual(plain(queryObjectList(request.input, 'Parameters')), []);
    assert.deepEqual(plain(queryObjectList(request.input, 'Tags')), [{ Key: 'k', Value: 'v' }]);
    assert.deepEqual(plain(request.input.M), { a: '1', b: '2' });
  });

  it('checks scalar types with ValidationError', () => {
    const { input } = decodeQueryRequest(new URLSearchParams('Action=X&B=yes&N=12&L.member.1.K=v'));
    assert.equal(queryInteger(input, 'N'), 12);
    assert.equal(queryBoolean(input, 'Missing'), undefined);
    assert.throws(() => queryBoolean(input, 'B'), { code: 'ValidationError' });
    assert.throws(() => queryStringList(input, 'L'), { code: 'ValidationError' });
  });
});

describe('encodeQueryResult / encodeQueryError', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
  });

  it('wraps the result, lists as <member>, timestamps as ISO-8601, escaped text', () => {
    const response = encodeQueryResult(
      'DescribeStacks',
      {
        Stacks: [
          {
            StackName: 'a<b>&c',
            CreationTime: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
            DisableRollback: false,
            Outputs: [],
            Tags: [{ Key: 'k', Value: 'line1\r\nline2' }],
            Skipped: undefined,
          },
        ],
      },
      'req-1',
      XMLNS,
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/xml');
    const body = response.body as string;
    assert.match(
      body,
      /<DescribeStacksResponse xmlns="http:\/\/cloudformation\.amazonaws\.com\/doc\/2010-05-15\/">/,
    );
    assert.match(body, /<CreationTime>2024-01-02T03:04:05\.006Z<\/CreationTime>/);
    assert.match(body, /<Outputs\/>/);
    assert.doesNotMatch(body, /Skipped/);
    const parsed = parser.parse(body) as {
      DescribeStacksResponse: {
        DescribeStacksResult: { Stacks: { member: Record<string, unknown> } };
        ResponseMetadata: { RequestId: string };
      };
    };
    const member = parsed.DescribeStacksResponse.DescribeStacksResult.Stacks.member;
    assert.equal(member.StackName, 'a<b>&c');
    assert.equal(member.DisableRollback, 'false');
    assert.deepEqual(member.Tags, { member: { Key: 'k', Value: 'line1\r\nline2' } });
    assert.equal(parsed.DescribeStacksResponse.ResponseMetadata.RequestId, 'req-1');
  });

  it('sends only ResponseMetadata for operations without output', () => {
    const body = encodeQueryResult('DeleteStack', undefined, 'req-2', XMLNS).body as string;
    assert.doesNotMatch(body, /DeleteStackResult/);
    assert.match(body, /<DeleteStackResponse [^>]*><ResponseMetadata><RequestId>req-2<\/RequestId>/);
    const empty = encodeQueryResult('ExecuteChangeSet', {}, 'req-3', XMLNS).body as string;
    assert.match(empty, /<ExecuteChangeSetResult><\/ExecuteChangeSetResult>/);
  });

  it('encodes errors in the ErrorResponse envelope with Sender/Receiver', () => {
    const client = encodeQueryError(
      new AwsError('ValidationError', 'Stack with id x does not exist'),
      'r',
      XMLNS,
    );
    assert.equal(client.status, 400);
    const parsed = parser.parse(client.body as string) as {
      ErrorResponse: { Error: { Type: string; Code: string; Message: string }; RequestId: string };
    };
    assert.deepEqual(parsed.ErrorResponse.Error, {
      Type: 'Sender',
      Code: 'ValidationError',
      Message: 'Stack with id x does not exist',
    });
    const server = encodeQueryError(new AwsError('InternalFailure', 'boom', 500), 'r', XMLNS);
    assert.match(server.body as string, /<Type>Receiver<\/Type>/);
  });
});
