export * from './stack-check';
export * from './prisoner-resync';
