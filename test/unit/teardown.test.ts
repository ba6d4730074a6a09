// Which solutions in a project's dataset group destroy takes for mlpipe train's: exactly the names
// solution-settings.ts's solutionName gives for the project, long project names included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCliSolutionName } from '../../src/lib/personalize/teardown.js';
import { solutionName, type SolutionShape } from '../../src/lib/personalize/solution-settings.js';

describe('isCliSolutionName', () => {
  const shapes: SolutionShape[] = [
    { recipe: 'aws-user-personalization', hpo: false, hyperparameters: {} },
    { recipe: 'aws-user-personalization', hpo: true, hyperparameters: {} },
    { recipe: 'aws-user-personalization', hpo: false, hyperparameters: { hidden_dimension: '64' } },
    { recipe: 'aws-popularity-count', hpo: false, hyperparameters: {} },
    { recipe: 'aws-similar-items', hpo: false, hyperparameters: {} },
  ];

  it('recognises every name train gives, for short and 41-character projects', () => {
    for (const project of ['mlpipe', 'shop', 'a'.repeat(41)])
      for (const shape of shapes) {
        const name = solutionName(project, shape);
        assert.ok(isCliSolutionName(name, project), `${name} for ${project}`);
      }
  });

  it('does not take other projects’ or hand-made solutions', () => {
    assert.equal(isCliSolutionName('other-popularity', 'mlpipe'), false);
    assert.equal(isCliSolutionName('mlpipe-popularity', 'mlpipe2'), false);
    assert.equal(isCliSolutionName('mlpipe-experiment', 'mlpipe'), false);
    assert.equal(isCliSolutionName('mlpipe-popularity-XYZ12', 'mlpipe'), false);
    assert.equal(isCliSolutionName('mlpipe-popularity-copy', 'mlpipe'), false);
  });
});
