using System.Globalization;
using MeshBulkheads.Testing.Otlp.Proto.Common;
using MeshBulkheads.Testing.Otlp.Proto.Trace;

namespace MeshBulkheads.Testing.Otlp;

/// <summary>One span as an OTLP exporter sent it, flattened with its resource's <c>service.name</c>.</summary>
/// <param name="ServiceName">The exporting process's <c>service.name</c> resource attribute.</param>
/// <param name="ScopeName">The instrumentation scope (ActivitySource), e.g. <c>Microsoft.AspNetCore</c>.</param>
/// <param name="TraceId">32 lower-case hex digits.</param>
/// <param name="SpanId">16 lower-case hex digits.</param>
/// <param name="ParentSpanId">16 lower-case hex digits, or null for a root span.</param>
/// <param name="Name">The span name.</param>
/// <param name="Kind">Server, client, internal, ...</param>
/// <param name="Attributes">The span's attributes, values as strings (invariant culture).</param>
/// <param name="Status">Unset, Ok or Error.</param>
/// <param name="StatusMessage">The status description.</param>
/// <param name="Events">The span's event names, in order.</param>
public sealed record ReceivedSpan(
    string ServiceName,
    string ScopeName,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    Span.Types.SpanKind Kind,
    IReadOnlyDictionary<string, string> Attributes,
    Status.Types.StatusCode Status,
    string StatusMessage,
    IReadOnlyList<string> Events)
{
    /// <summary>The attribute's value, or null when the span does not carry it.</summary>
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;

    /// <summary>A one-line description for assertion messages.</summary>
    public override string ToString() =>
        $"{ServiceName} {Kind} '{Name}' span={SpanId} parent={ParentSpanId ?? "-"} [{string.Join(", ", Attributes.Select(a => a.Key + "=" + a.Value))}]";

    internal static IEnumerable<ReceivedSpan> From(ResourceSpans resourceSpans)
    {
        var serviceName = resourceSpans.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value is { } value
            ? Text(value)
            : string.Empty;
        foreach (var scope in resourceSpans.ScopeSpans)
        {
            foreach (var span in scope.Spans)
            {
                yield return new ReceivedSpan(
                    serviceName,
                    scope.Scope?.Name ?? string.Empty,
                    Convert.ToHexStringLower(span.TraceId.Span),
                    Convert.ToHexStringLower(span.SpanId.Span),
                    span.ParentSpanId.IsEmpty ? null : Convert.ToHexStringLower(span.ParentSpanId.Span),
                    span.Name,
                    span.Kind,
                    span.Attributes.GroupBy(a => a.Key).ToDictionary(g => g.Key, g => Text(g.Last().Value)),
                    span.Status?.Code ?? Proto.Trace.Status.Types.StatusCode.Unset,
                    span.Status?.Message ?? string.Empty,
                    [.. span.Events.Select(e => e.Name)]);
            }
        }
    }

    private static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(",", value.ArrayValue.Values.Select(Text)) + "]",
        AnyValue.ValueOneofCase.BytesValue => Convert.ToHexStringLower(value.BytesValue.Span),
        _ => string.Empty,
    };
}
