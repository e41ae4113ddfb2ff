import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

/** Legend text in dark slate: the series colours (e.g. #059669) are 3.8:1 on white. */
function legendText(value: string) {
  return <span style={{ color: "#334155" }}>{value}</span>;
}

export interface SeriesPoint {
  label: string;
  sent?: number;
  delivered: number;
  failed: number;
}

export function DeliveryChart({
  data,
  showSent = true,
  label,
}: {
  data: SeriesPoint[];
  showSent?: boolean;
  label: string;
}) {
  return (
    <figure aria-label={label} className="h-64 w-full">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis tick={{ fontSize: 11 }} allowDecimals={false} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
          {showSent && <Area type="monotone" dataKey="sent" stroke="#6366f1" fill="#6366f133" name="Sent" />}
          <Area type="monotone" dataKey="delivered" stroke="#059669" fill="#05966933" name="Delivered" />
          <Area type="monotone" dataKey="failed" stroke="#e11d48" fill="#e11d4833" name="Failed" />
        </AreaChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Receipts per time bucket, stacked: readable even with one or two buckets. */
export function DeliveryBars({
  data,
  label,
  stacked = true,
  showSent = false,
  max,
}: {
  data: SeriesPoint[];
  label: string;
  stacked?: boolean;
  showSent?: boolean;
  /** Top of the scale (the audience): a bar can then never look taller than it. */
  max?: number;
}) {
  return (
    <figure aria-label={label} className="h-64 w-full">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis tick={{ fontSize: 11 }} allowDecimals={false} domain={max ? [0, max] : undefined} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
          {/* Live data changes every second: an animation restarting from 0 shows near-empty bars. */}
          {showSent && (
            <Bar dataKey="sent" fill="#6366f1" name="Sent" maxBarSize={48} isAnimationActive={false} />
          )}
          <Bar
            dataKey="delivered"
            stackId={stacked ? "r" : undefined}
            fill="#059669"
            name="Delivered"
            maxBarSize={48}
            isAnimationActive={false}
          />
          <Bar
            dataKey="failed"
            stackId={stacked ? "r" : undefined}
            fill="#e11d48"
            name="Failed"
            maxBarSize={48}
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

export interface TrendSeries {
  key: string;
  name: string;
  color: string;
  kind: "bar" | "line" | "area";
  /** "right": drawn against the second axis (a rate beside counts, a total beside increments). */
  axis?: "left" | "right";
}

/** Daily series over a date range: bars, lines and areas on one or two axes. */
export function TrendChart({
  data,
  series,
  label,
  formatLeft,
  formatRight,
}: {
  data: object[];
  series: TrendSeries[];
  label: string;
  formatLeft?: (value: number) => string;
  formatRight?: (value: number) => string;
}) {
  const twoAxes = series.some((s) => s.axis === "right");
  return (
    <figure aria-label={label} className="h-64 w-full">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={data} margin={{ top: 8, right: twoAxes ? 0 : 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={24} />
          <YAxis
            yAxisId="left"
            tick={{ fontSize: 11 }}
            width={48}
            tickFormatter={formatLeft}
            allowDecimals={false}
          />
          {twoAxes && (
            <YAxis
              yAxisId="right"
              orientation="right"
              tick={{ fontSize: 11 }}
              width={48}
              tickFormatter={formatRight}
              allowDecimals={false}
            />
          )}
          <Tooltip
            formatter={(value, name, item) => {
              const right = series.find((s) => s.key === item.dataKey)?.axis === "right";
              const format = right ? formatRight : formatLeft;
              return [typeof value === "number" && format ? format(value) : value, name];
            }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
          {series.map((s) => {
            const common = {
              dataKey: s.key,
              name: s.name,
              yAxisId: s.axis ?? "left",
              isAnimationActive: false,
            };
            if (s.kind === "bar") return <Bar key={s.key} {...common} fill={s.color} maxBarSize={24} />;
            if (s.kind === "area")
              return <Area key={s.key} {...common} type="monotone" stroke={s.color} fill={`${s.color}33`} />;
            return (
              <Line
                key={s.key}
                {...common}
                type="monotone"
                stroke={s.color}
                strokeWidth={2}
                dot={false}
                connectNulls
              />
            );
          })}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
