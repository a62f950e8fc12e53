/** An engine that cannot start on this machine; `reason` says why (shown to the user). */
export class EngineUnavailable extends Error {
  constructor(readonly engine: string, readonly reason: string) {
    super(`${engine}: ${reason}`);
    this.name = "EngineUnavailable";
  }
}
