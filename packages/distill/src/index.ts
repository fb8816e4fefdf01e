// Public API of @r1-ts/distill.
export { rejectionReason } from './filters';
export type { RejectionRule, RejectionOptions } from './filters';
export { sampleFromTeacher } from './teacher';
export type { Teacher, TeacherSample, TeacherSamplingOptions, TeacherSamplingResult } from './teacher';
export { sftStudent, logitDistillationLoss } from './student';
export { OpenAICompatibleTeacher, toR1Text } from './openai_teacher';
export type { OpenAITeacherOptions } from './openai_teacher';
