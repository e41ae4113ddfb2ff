// One journey: its steps with the live count of customers at each, and its controls.
import { useState } from "react";
import { useParams } from "react-router-dom";
import { getJourney, getJourneyStats, journeyAction, type StepStats } from "../api/journeys";
import { Button, Card, ErrorState, Loading, PageHeader, Stat, StatusBadge } from "../components/ui";
import { formatNumber } from "../format";
import { useAsync, useInterval } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { StepList } from "../journeys/StepList";

export function JourneyPage() {
  const { id = "" } = useParams();
  const journey = useAsync(() => getJourney(id), [id]);
  const stats = useAsync(() => getJourneyStats(id), [id]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useDocumentTitle(journey.data?.name ?? "Journey");
  useInterval(stats.reload, 3000);
  const j = journey.data;
  if (journey.error) return <ErrorState error={journey.error} onRetry={journey.reload} />;
  if (!j) return <Loading />;
  const byStep: Record<string, StepStats> = Object.fromEntries(
    (stats.data?.steps ?? []).map((s) => [s.id, s]),
  );

  const act = async (action: "activate" | "pause" | "archive") => {
    setBusy(true);
    try {
      await journeyAction(id, action);
      setError(undefined);
      journey.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title={j.name}
        subtitle={`Trigger: ${j.trigger.type.replace("_", " ")} · re-entry ${j.reentry}`}
        actions={
          <>
            <span data-testid="journey-status">
              <StatusBadge status={j.status} />
            </span>
            {(j.status === "draft" || j.status === "paused") && (
              <Button busy={busy} onClick={() => act("activate")}>
                Activate
              </Button>
            )}
            {j.status === "active" && (
              <Button variant="secondary" busy={busy} onClick={() => act("pause")}>
                Pause
              </Button>
            )}
            {j.status !== "archived" && (
              <Button variant="ghost" busy={busy} onClick={() => act("archive")}>
                Archive
              </Button>
            )}
          </>
        }
      />
      {error ? <ErrorState error={error} /> : null}
      <div className="mb-4 grid grid-cols-2 gap-3 md:grid-cols-5">
        <Stat label="Entered" value={formatNumber(stats.data?.entered)} />
        <Stat label="In the journey" value={formatNumber(stats.data?.active)} />
        <Stat label="Completed" value={formatNumber(stats.data?.completed)} />
        <Stat label="Converted" value={formatNumber(stats.data?.converted)} />
        <Stat label="Exited" value={formatNumber(stats.data?.exited)} />
      </div>
      <Card title="Steps">
        <StepList label="Journey steps" steps={j.steps} stats={byStep} />
      </Card>
    </>
  );
}
