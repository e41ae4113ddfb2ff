import { describe, expect, it } from "vitest";
import { evenShares, experimentProblems, newExperiment } from "./VariantEditor";

describe("variant editor", () => {
  it("splits evenly and the shares add up to exactly 100", () => {
    expect(evenShares(2)).toEqual([50, 50]);
    expect(evenShares(3)).toEqual([33.33, 33.33, 33.34]);
    for (const n of [2, 3, 4, 5]) expect(evenShares(n).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
  });

  it("names what the server would refuse", () => {
    const draft = newExperiment("Hi {name}");
    expect(experimentProblems(draft)).toEqual(["Every variant needs a message."]);
    draft.variants[1] = { ...draft.variants[1], message: "Hello", share: 40 };
    expect(experimentProblems(draft)).toEqual(["Variant shares add up to 90%, not 100%."]);
    draft.variants[1].share = 50;
    draft.holdoutShare = 60;
    expect(experimentProblems(draft)).toEqual(["The holdout is 0 to 50%."]);
  });
});
