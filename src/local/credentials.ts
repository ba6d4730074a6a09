/**
 * The local stack's own identity: an access key pair, account id and default region, created once
 * per data dir and kept in credentials.json (mode 0600). Clients must sign with these keys. The
 * file is part of the contract with the CLI (contract.ts), which also regenerates a damaged one.
 */
export {
  DamagedIdentityError,
  LOCAL_ACCOUNT_ID,
  loadOrCreateIdentity,
  readIdentity,
  type LocalIdentity,
} from './contract.js';
