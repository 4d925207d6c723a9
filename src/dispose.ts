// Symbol.asyncDispose, which Node has from 20.4 on; the registered fallback keeps older runtimes
// from defining a method literally named "undefined".
export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');
