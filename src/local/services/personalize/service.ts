/** Personalize as the services list declares it: AWS JSON 1.1, `AmazonPersonalize`; imports read S3. */
import { defineService } from '../../core/service.js';
import { PersonalizeService } from './dataset-resources.js';
import { personalizeOperations } from './wire.js';

export const personalizeService = defineService({
  name: 'personalize',
  displayName: 'Personalize',
  signingName: 'personalize',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'AmazonPersonalize' },
  dependsOn: ['s3'],
  open: (ctx) => PersonalizeService.open(ctx),
  operations: (personalize) => personalizeOperations(personalize),
  close: (personalize) => personalize.close(),
  stats: (personalize) => personalize.stats(),
});
