// The journey composer: a trigger, a vertical list of steps (branches indented), a goal
// and the re-entry policy. Saved as a draft; activated from the journey's page.
import { useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { errorMessage } from "../api/client";
import { createJourney, type JourneyIn, type JourneyStep, type JourneyTrigger } from "../api/journeys";
import { Button, Card, ErrorState, inputClass, PageHeader } from "../components/ui";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { StepList } from "../journeys/StepList";

const TRIGGERS: { value: JourneyTrigger["type"]; label: string }[] = [
  { value: "order_placed", label: "Order placed" },
  { value: "customer_created", label: "Customer created" },
  { value: "date_attribute", label: "Date attribute (last visit + days)" },
];

function trigger(type: JourneyTrigger["type"], firstOrder: boolean, offsetDays: number): JourneyTrigger {
  if (type === "order_placed") return { type, firstOrder };
  if (type === "date_attribute") return { type, field: "lastVisit", offsetDays, yearly: false };
  return { type: "customer_created" };
}

export function JourneyEditor() {
  useDocumentTitle("New journey");
  const navigate = useNavigate();
  const counter = useRef(0);
  const nextId = () => `s${++counter.current}`;
  const [name, setName] = useState("");
  const [triggerType, setTriggerType] = useState<JourneyTrigger["type"]>("order_placed");
  const [firstOrder, setFirstOrder] = useState(true);
  const [offsetDays, setOffsetDays] = useState(30);
  const [steps, setSteps] = useState<JourneyStep[]>([]);
  const [goal, setGoal] = useState(true);
  const [reentry, setReentry] = useState<"never" | "after_exit">("never");
  const [error, setError] = useState<unknown>();
  const [saving, setSaving] = useState(false);

  const save = async () => {
    const body: JourneyIn = {
      name,
      trigger: trigger(triggerType, firstOrder, offsetDays),
      steps,
      goal: goal ? { event: "order_placed" } : null,
      reentry,
    };
    setSaving(true);
    try {
      const journey = await createJourney(body);
      navigate(`/journeys/${journey.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <PageHeader title="New journey" subtitle="Saved as a draft; activate it from its page." />
      <div className="grid gap-4">
        <Card title="Trigger">
          <div className="grid gap-3 sm:grid-cols-2">
            <label className="text-sm" htmlFor="journey-name">
              Name
              <input
                id="journey-name"
                className={inputClass}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </label>
            <label className="text-sm" htmlFor="journey-trigger">
              When
              <select
                id="journey-trigger"
                className={inputClass}
                value={triggerType}
                onChange={(e) => setTriggerType(e.target.value as JourneyTrigger["type"])}
              >
                {TRIGGERS.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </select>
            </label>
            {triggerType === "order_placed" && (
              <label className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  checked={firstOrder}
                  onChange={(e) => setFirstOrder(e.target.checked)}
                />
                Only a customer's first order
              </label>
            )}
            {triggerType === "date_attribute" && (
              <label className="text-sm" htmlFor="journey-offset">
                Days after the last visit
                <input
                  id="journey-offset"
                  type="number"
                  min={0}
                  className={inputClass}
                  value={offsetDays}
                  onChange={(e) => setOffsetDays(Number(e.target.value))}
                />
              </label>
            )}
          </div>
        </Card>
        <Card title="Steps">
          <StepList label="Journey steps" steps={steps} onChange={setSteps} nextId={nextId} />
        </Card>
        <Card title="Goal and re-entry">
          <div className="flex flex-wrap gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={goal} onChange={(e) => setGoal(e.target.checked)} />
              An order ends the journey (a conversion)
            </label>
            <label className="flex items-center gap-2" htmlFor="journey-reentry">
              Re-entry
              <select
                id="journey-reentry"
                className={inputClass}
                value={reentry}
                onChange={(e) => setReentry(e.target.value as "never" | "after_exit")}
              >
                <option value="never">Never</option>
                <option value="after_exit">After exit</option>
              </select>
            </label>
          </div>
        </Card>
        {error ? <ErrorState error={error} /> : null}
        {error ? <p className="sr-only">{errorMessage(error)}</p> : null}
        <div>
          <Button busy={saving} onClick={save} disabled={!name.trim() || steps.length === 0}>
            Save draft
          </Button>
        </div>
      </div>
    </>
  );
}
