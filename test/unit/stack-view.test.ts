// How stack events read at a terminal's width: whole values, nothing cut, nothing over the width.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStackEvent } from '../../src/lib/infra/stack-view.js';
import { wrapWords } from '../../src/lib/cli/ui.js';

const event = (status: string, type: string, logicalId: string, reason: string | null) => ({
  stack: 'mlpipe-datalake',
  timestamp: '2026-12-01T09:59:03.123Z',
  status,
  type,
  logicalId,
  reason,
});

describe('formatStackEvent', () => {
  const events = [
    event('DELETE_IN_PROGRESS', 'AWS::CloudFormation::Stack', 'mlpipe-datalake', 'User Initiated'),
    event('DELETE_COMPLETE', 'AWS::IAM::Role', 'StepFunctionsRole', null),
    event('DELETE_IN_PROGRESS', 'AWS::S3::BucketPolicy', 'DataLakeBucketPolicy', null),
    event(
      'CREATE_FAILED',
      'AWS::S3::Bucket',
      'DataLakeBucket',
      'mlpipe-datalake already exists in this account (Service: S3, Status Code: 409, Request ID: 0f1e2d3c4b5a)',
    ),
  ];

  it('fits 80 columns, keeping time, status, logical id and the whole reason', () => {
    for (const e of events) {
      const text = formatStackEvent(e, 80);
      for (const line of text.split('\n')) assert.ok(line.length <= 80, `too wide: "${line}"`);
      assert.match(text, /09:59:03/);
      assert.ok(text.includes(e.status) && text.includes(e.logicalId), text);
      if (e.reason !== null)
        assert.equal(text.replace(/\s+/g, ' ').includes(e.reason), true, `reason kept whole: ${text}`);
    }
    // The resource type goes, from every line alike; a short reason stays on the event's line.
    assert.equal(formatStackEvent(events[1]!, 80), '  09:59:03  DELETE_COMPLETE        StepFunctionsRole');
    assert.equal(
      formatStackEvent(events[0]!, 80),
      '  09:59:03  DELETE_IN_PROGRESS     mlpipe-datalake  User Initiated',
    );
  });

  it('shows every column on a wide terminal', () => {
    const text = formatStackEvent(events[0]!, 160);
    assert.equal(
      text,
      '  09:59:03  DELETE_IN_PROGRESS     AWS::CloudFormation::Stack       mlpipe-datalake  User Initiated',
    );
    assert.ok(formatStackEvent(events[3]!, 200).includes('AWS::S3::Bucket'));
    assert.equal(formatStackEvent(events[3]!, 200).includes('\n'), false);
  });
});

describe('wrapWords', () => {
  it('breaks between words, keeps the first line indentation, and never splits a long word', () => {
    const text =
      '  stop training: solution version arn:aws:personalize:us-east-1:000000000000:solution/mlpipe-personalization/abcdef12 (mlpipe-personalization, CREATE IN_PROGRESS)';
    const wrapped = wrapWords(text, 60, '    ');
    const lines = wrapped.split('\n');
    assert.ok(lines[0]!.startsWith('  stop training'));
    assert.ok(lines.slice(1).every((line) => line.startsWith('    ')));
    assert.equal(wrapped.replace(/\s+/g, ' ').trim(), text.trim());
    for (const line of lines)
      assert.ok(
        line.length <= 60 || !line.trim().includes(' '),
        `only a lone long word may exceed: "${line}"`,
      );
  });
});
