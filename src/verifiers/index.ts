export { type AgreementOptions, agreementVerifier } from "./agreement-verifier.js";
export {
  type LlmJudgeOptions,
  llmJudgeVerifier,
  type PairwisePreference,
  type PairwiseVerdict,
  pairwiseJudge,
} from "./llm-judge-verifier.js";
export { type ProgramCheck, type ProgramCheckResult, programVerifier } from "./program-verifier.js";
export { scoreCandidate } from "./score-candidate.js";
export { type SelfProbabilityOptions, selfProbabilityVerifier } from "./self-probability-verifier.js";
export type { Candidate, Verifier, VerifierScore } from "./verifier.js";
