using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Contracts;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>What a call's final attempt came back with.</summary>
internal enum OutcomeKind
{
    /// <summary>Status OK: the only outcome that counts toward goodput.</summary>
    Ok,

    /// <summary>The mesh shed the call on purpose: a status with an <c>x-mesh-reject-reason</c>.</summary>
    Rejected,

    /// <summary>DEADLINE_EXCEEDED without a reject reason (the client's deadline passed in flight).</summary>
    DeadlineExceeded,

    /// <summary>Anything else (UNAVAILABLE without a reason, INTERNAL, UNAUTHENTICATED…).</summary>
    Error,
}

/// <summary>A classified call outcome: its kind, gRPC status, reject reason and pushback.</summary>
internal readonly record struct Outcome(OutcomeKind Kind, StatusCode Status, string? Reason, TimeSpan? Pushback)
{
    public const string RejectReasonKey = "x-mesh-reject-reason";
    public const string PushbackKey = "grpc-retry-pushback-ms";

    public static readonly Outcome Success = new(OutcomeKind.Ok, StatusCode.OK, null, null);

    /// <summary>The key outcomes are counted under: <c>OK</c>, <c>UNAVAILABLE/queue-full</c>, <c>DEADLINE_EXCEEDED</c>.</summary>
    public string Key => Reason is null ? StatusName(Status) : StatusName(Status) + "/" + Reason;

    /// <summary>Whether the server asked the client not to retry (negative pushback, gRFC A6).</summary>
    public bool PushbackSaysDoNotRetry => Pushback is { } p && p < TimeSpan.Zero;

    /// <summary>
    /// Classifies a failed call. A rejection is never a success: grpc-dotnet surfaces every non-OK status
    /// (h2load, reading only the HTTP status, would count these as successes).
    /// </summary>
    public static Outcome From(RpcException exception)
    {
        var trailers = exception.Trailers;
        var reason = trailers.GetValue(RejectReasonKey);
        TimeSpan? pushback = null;
        if (trailers.GetValue(PushbackKey) is { } text && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
        {
            pushback = ms < 0 ? TimeSpan.FromMilliseconds(-1) : TimeSpan.FromMilliseconds(ms);
        }

        var status = exception.StatusCode;
        var kind = status switch
        {
            StatusCode.OK => OutcomeKind.Ok,
            _ when !string.IsNullOrEmpty(reason) => OutcomeKind.Rejected,
            StatusCode.DeadlineExceeded => OutcomeKind.DeadlineExceeded,
            _ => OutcomeKind.Error,
        };
        return new Outcome(kind, status, string.IsNullOrEmpty(reason) ? null : reason, pushback);
    }

    /// <summary>gRPC's canonical upper-case names (what grpcurl and the docs print); an unlisted code prints as its number.</summary>
    public static string StatusName(StatusCode status) => GrpcStatusNames.Canonical(status) ?? ((int)status).ToString(CultureInfo.InvariantCulture);
}
