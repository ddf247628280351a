// Entry of the test build (build/percepnet-test.wasm, percepnet-scalar-test.wasm):
// the shipped ABI plus the hooks of test-hooks.ts. Not shipped.
export * from "./index";
export * from "./test-hooks";
