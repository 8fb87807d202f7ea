using System.Text.Json;
using MeshBulkheads.Contracts.Payments.V1;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// <c>--call-log FILE</c>: one JSON line per finished call — when it was due and when it ended (ms since
/// the run started, whose wall-clock time is <c>runStartUnixMs</c>), its final status and reason, the status of its first attempt, the attempts it took,
/// the final answer's retry pushback (<c>pushbackMs</c>, from <c>grpc-retry-pushback-ms</c>; -1 for "do not retry", absent without one)
/// and, for <c>Charge</c>, the account, amount, idempotency key and the acknowledged payment id. The
/// chaos experiments audit the ledger against it: every acknowledged charge must be there exactly once.
/// </summary>
internal sealed class CallLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    private CallLog(StreamWriter writer) => _writer = writer;

    /// <summary>Opens the log; <c>-</c> writes it to standard error (a Kubernetes Job's log, beside the result on stdout).</summary>
    public static CallLog? Open(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (path == "-")
        {
            return new CallLog(new StreamWriter(Console.OpenStandardError()) { AutoFlush = true });
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        return new CallLog(new StreamWriter(path, append: false));
    }

    public void Write(CallRecord record)
    {
        var line = JsonSerializer.Serialize(record, CallLogJsonContext.Default.CallRecord);
        lock (_lock)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer.Dispose();
        }
    }

    /// <summary>The charge fields of a record: the request and, when acknowledged, its response.</summary>
    public static (string? Account, long? Amount, string? Key, string? PaymentId, bool? Replayed) ChargeFields(ChargeRequest? request, object? response) =>
        request is null
            ? (null, null, null, null, null)
            : (request.AccountId, request.AmountMinor, request.IdempotencyKey, (response as ChargeResponse)?.PaymentId, (response as ChargeResponse)?.Replayed);
}

/// <summary>One line of the call log.</summary>
internal sealed record CallRecord(
    string Stream,
    long Sequence,
    double DueMs,
    double EndMs,
    long RunStartUnixMs,
    string Status,
    string? Reason,
    string FirstAttempt,
    int Attempts,
    string? Account = null,
    long? AmountMinor = null,
    string? IdempotencyKey = null,
    string? PaymentId = null,
    bool? Replayed = null,
    long? PushbackMs = null);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CallRecord))]
internal sealed partial class CallLogJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
