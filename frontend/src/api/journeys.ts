// Journeys and delivery settings (docs/api.md, "Journeys").
import { request } from "./client";

export type WaitStep = { id: string; type: "wait"; seconds?: number; until?: string };
export type SendStep = { id: string; type: "send"; channel: "sms" | "email"; message: string };
export type ExitStep = { id: string; type: "exit" };
export type BranchStep = {
  id: string;
  type: "branch";
  orderedSinceEntry?: boolean;
  rules?: unknown;
  then: JourneyStep[];
  else: JourneyStep[];
};
export type JourneyStep = WaitStep | SendStep | ExitStep | BranchStep;

export type JourneyTrigger =
  | { type: "customer_created"; rules?: unknown }
  | { type: "order_placed"; rules?: unknown; minAmount?: number; firstOrder?: boolean }
  | { type: "segment_entered"; rules: unknown }
  | { type: "date_attribute"; field: string; offsetDays: number; yearly: boolean; at?: string };

export interface JourneyIn {
  name: string;
  trigger: JourneyTrigger;
  steps: JourneyStep[];
  goal?: { event: "order_placed" } | null;
  reentry: "never" | "after_exit";
}

export interface Journey extends JourneyIn {
  id: string;
  status: "draft" | "active" | "paused" | "archived";
  createdBy?: string;
  createdAt: string;
  updatedAt: string;
}

export interface StepStats {
  id: string;
  entered: number;
  waiting: number;
  sent: number;
  failed: number;
}

export interface JourneyStats {
  entered: number;
  active: number;
  completed: number;
  converted: number;
  exited: number;
  steps: StepStats[];
}

export interface CustomerJourney {
  journeyId: string;
  journeyName: string | null;
  entry: number;
  status: string;
  position: string | null;
  dueAt: string | null;
  orderedSinceEntry: boolean;
  history: { at: string; entry: number; event: string; detail: string }[];
}

const path = (id: string) => `/api/journeys/${encodeURIComponent(id)}`;

export const listJourneys = () => request<{ items: Journey[] }>("GET", "/api/journeys");
export const getJourney = (id: string) => request<Journey>("GET", path(id));
export const getJourneyStats = (id: string) => request<JourneyStats>("GET", `${path(id)}/stats`);
export const createJourney = (body: JourneyIn) => request<Journey>("POST", "/api/journeys", { body });
export const journeyAction = (id: string, action: "activate" | "pause" | "archive") =>
  request<Journey>("POST", `${path(id)}/${action}`);
export const getCustomerJourneys = (customerId: string) =>
  request<{ items: CustomerJourney[] }>("GET", `/api/customers/${encodeURIComponent(customerId)}/journeys`);
