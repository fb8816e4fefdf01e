// Public API of @r1-ts/gspo.
export { gspoDefaults, gspoObjective, gspoTokenObjective } from './objective';
export { GspoTrainer } from './trainer';
