declare module 'cfn-resolver-lib' {
  /** Resolves the intrinsics of a CloudFormation template (https://github.com/robessog/cfn-resolver-lib). */
  export default class NodeEvaluator {
    constructor(template: object, params?: Record<string, unknown>, verbose?: boolean);
    // biome-ignore lint/suspicious/noExplicitAny: the resolved template has the caller's shape.
    evaluateNodes(overrideParams?: Record<string, unknown>): any;
  }
}
