// @vitest-environment jsdom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { StreamInfo } from "../api/types";
import { Partitions } from "./Streams";

afterEach(cleanup);

const group = (pending: number) => ({ name: "send", pending, lag: 0, consumers: [] });

const send: StreamInfo = {
  stream: "send",
  length: 30,
  groups: [group(3)],
  dlq: { stream: "send.dlq", length: 1 },
  partitions: [
    {
      stream: "{send:0}",
      node: "10.0.0.1:6379",
      length: 10,
      groups: [group(1)],
      dlq: { stream: "{send:0}.dlq", length: 0 },
    },
    {
      stream: "{send:1}",
      node: "10.0.0.2:6379",
      length: 20,
      groups: [group(2)],
      dlq: { stream: "{send:1}.dlq", length: 1 },
    },
  ],
};

describe("Partitions", () => {
  it("lists each partition with the node that holds it, its length, pending and DLQ", () => {
    render(<Partitions stream={send} />);
    const rows = within(screen.getByTestId("stream-partitions")).getAllByRole("row").slice(1);
    expect(rows.map((r) => Array.from(r.querySelectorAll("td")).map((c) => c.textContent))).toEqual([
      ["{send:0}", "10.0.0.1:6379", "10", "1", "0"],
      ["{send:1}", "10.0.0.2:6379", "20", "2", "1"],
    ]);
  });
});
