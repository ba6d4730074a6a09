/**
 * Personalize Runtime as the services list declares it: REST-JSON (`POST /recommendations` →
 * GetRecommendations, `POST /personalize-ranking` → GetPersonalizedRanking), signing name
 * `personalize` (botocore's personalize-runtime metadata: the runtime signs as Personalize). It
 * keeps no state of its own: it answers from Personalize's campaigns, which serve their solution
 * version's model loaded once.
 */
import { defineService } from '../../core/service.js';
import type { Personalize } from '../personalize/service.js';
import { personalizeRuntimeOperations } from './wire.js';

export const personalizeRuntimeService = defineService<Personalize>({
  name: 'personalize-runtime',
  displayName: 'Personalize Runtime',
  signingName: 'personalize',
  protocol: {
    kind: 'rest-json',
    routes: [
      { method: 'POST', path: '/recommendations', operation: 'GetRecommendations' },
      { method: 'POST', path: '/personalize-ranking', operation: 'GetPersonalizedRanking' },
    ],
  },
  dependsOn: ['personalize'],
  open: async (ctx) => ctx.service<Personalize>('personalize'),
  operations: (personalize) => personalizeRuntimeOperations(personalize.campaigns),
});
