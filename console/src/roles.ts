import type { Role } from './gql/graphql';

/** What each role may see and do in the console (the server still checks every right: src/auth/roles.ts). */
export const can = {
  readReviews: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT'].includes(role),
  resolve: (role: Role) => ['ADMIN', 'SUPPORT'].includes(role),
  readDevices: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT', 'PARTNER'].includes(role),
  readLocation: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT'].includes(role),
  readExemptions: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT'].includes(role),
  writeExemptions: (role: Role) => ['ADMIN', 'POLICY_AUTHOR'].includes(role),
  readAudit: (role: Role) => ['ADMIN', 'ANALYST'].includes(role),
  readPolicies: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'SUPPORT'].includes(role),
  writePolicies: (role: Role) => ['ADMIN', 'POLICY_AUTHOR'].includes(role),
  simulatePolicies: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST'].includes(role),
  readPolicyChanges: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST'].includes(role),
  manageKeys: (role: Role) => role === 'ADMIN',
  readReports: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST', 'PARTNER'].includes(role),
  readSweeps: (role: Role) => ['ADMIN', 'POLICY_AUTHOR', 'ANALYST'].includes(role),
  runSweeps: (role: Role) => ['ADMIN', 'POLICY_AUTHOR'].includes(role),
  managePartners: (role: Role) => role === 'ADMIN',
};
