// Every workflow the worker runs. This file is the entry of the worker's workflow bundle.
export { pingWorkflow } from './ping';
export { issuanceWorkflow } from './issuance';
export { expirySweepWorkflow, revocationWorkflow, notifyStatusChangeWorkflow } from './lifecycle';
export { resendCallbackWorkflow } from './operations';
export { grantWorkflow } from './grant';
export { holderRequestWorkflow } from './holder-request';
export { suspensionWorkflow } from './suspension';
export { certificateImportWorkflow } from './imports';
export { accessRequestWorkflow } from './access-request';
export { catalogStatusWorkflow } from './catalog-status';
