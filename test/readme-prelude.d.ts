// What the README's TypeScript fragments use without defining it: the objects an earlier block made
// (spdk, bdev) and the placeholders a reader fills in (offset, buffer, lba...). Declared here, once,
// so each fragment type-checks on its own (test/unit/readme-examples.test.ts). A fragment that
// defines a name itself shadows these.
declare const Spdk: typeof import('spdk-node').Spdk;
declare const RpcClient: typeof import('spdk-node').RpcClient;
declare const spdk: import('spdk-node').Spdk;
declare const bdev: import('spdk-node').Bdev;
declare const config: import('spdk-node').SpdkConfig;
declare const memSizeMb: number;
declare const rpcSocket: string | false;
declare const interruptMode: boolean;
declare const offset: number;
declare const length: number;
declare const buffer: Buffer;
declare const intoBuffer: Buffer;
declare function nextOffset(): number;
declare const lba: number;
declare const count: number;
declare const cns: number;
declare const nsid: number;
declare const lid: number;
declare const size: number;
declare const cmd: import('spdk-node').NvmeCommand;
declare const ns: import('spdk-node').NvmeNamespace;
declare const qp: import('spdk-node').IoQpair;
declare function nextLba(): number;
