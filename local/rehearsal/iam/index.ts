/**
 * The rehearsal's IAM check (issue #14, step 4). In order of use:
 *
 * 1. policiesFromTemplate(resolved stack) → each role's identity policies and tags, the queue,
 *    bucket and function (AWS::Lambda::Permission) policies, which role each function and schedule
 *    uses; checkTemplatePolicies(policies) → what the evaluator cannot read, before any call.
 * 2. new IamGateway({ upstreams, principals: templatePrincipals(...), describe: { account, tables:
 *    tableKeysFromTemplate(stack), secretArn, emulatorAccounts: ['000000000000'] }, resourcePolicy:
 *    (arn) => resourcePolicyFor(policies, arn), operatorAccessKeyId }).start() → the URL every
 *    function's AWS_ENDPOINT_URL_<SERVICE> points at.
 * 3. After the run: leastPrivilegeReport([...principals.values()], gateway.calls()) and
 *    formatLeastPrivilegeReport(report); the rehearsal fails when report.deniedCalls > 0.
 */
export type { AwsCall, AwsRequest, AwsService, DescribeContext, TableKeys } from './awsCall.ts';
export { checkTemplatePolicies, type PolicyProblem } from './checkTemplatePolicies.ts';
export { describeAwsCall } from './describeAwsCall.ts';
export {
  type CallDecision,
  type CallPrincipal,
  evaluateCall,
  type MatchedStatement,
  type MissingStatement,
} from './evaluateCall.ts';
export { tableKeysFromTemplate, templatePrincipals } from './gatewaySetup.ts';
export {
  type CallRecord,
  type GatewayPrincipal,
  IamGateway,
  type IamGatewayOptions,
  OPERATOR,
} from './IamGateway.ts';
export {
  formatLeastPrivilegeReport,
  type LeastPrivilegeReport,
  leastPrivilegeReport,
  type PrincipalReport,
} from './leastPrivilegeReport.ts';
export {
  type NamedPolicy,
  type PolicyDocument,
  policiesFromTemplate,
  resourcePolicyFor,
  type TemplatePolicies,
} from './policiesFromTemplate.ts';
export { parseSigV4, type SigV4Scope } from './sigv4.ts';
