using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Tests.Running;

public class OutcomeTests
{
    [Fact]
    public void From_UnavailableWithReasonAndPushback_RejectedWithBoth()
    {
        // Arrange
        var exception = Rpc(StatusCode.Unavailable, ("x-mesh-reject-reason", "queue-full"), ("grpc-retry-pushback-ms", "250"));

        // Act
        var outcome = Outcome.From(exception);

        // Assert
        Assert.Equal(OutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("UNAVAILABLE/queue-full", outcome.Key);
        Assert.Equal(TimeSpan.FromMilliseconds(250), outcome.Pushback);
        Assert.False(outcome.PushbackSaysDoNotRetry);
    }

    [Fact]
    public void From_ResourceExhaustedNegativePushback_RejectedDoNotRetry()
    {
        // Act
        var outcome = Outcome.From(Rpc(StatusCode.ResourceExhausted, ("x-mesh-reject-reason", "rate-limited"), ("grpc-retry-pushback-ms", "-1")));

        // Assert
        Assert.Equal(OutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("RESOURCE_EXHAUSTED/rate-limited", outcome.Key);
        Assert.True(outcome.PushbackSaysDoNotRetry);
    }

    [Fact]
    public void From_DeadlineExceededWithReason_RejectedNotDeadline()
    {
        // Act: the mesh refused work it could not finish in time: a rejection, counted by its reason.
        var outcome = Outcome.From(Rpc(StatusCode.DeadlineExceeded, ("x-mesh-reject-reason", "deadline-exceeded")));

        // Assert
        Assert.Equal(OutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("DEADLINE_EXCEEDED/deadline-exceeded", outcome.Key);
    }

    [Fact]
    public void From_DeadlineExceededWithoutReason_DeadlineExceeded()
    {
        // Act
        var outcome = Outcome.From(Rpc(StatusCode.DeadlineExceeded));

        // Assert
        Assert.Equal(OutcomeKind.DeadlineExceeded, outcome.Kind);
        Assert.Equal("DEADLINE_EXCEEDED", outcome.Key);
        Assert.Null(outcome.Pushback);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "UNAVAILABLE")]
    [InlineData(StatusCode.Unauthenticated, "UNAUTHENTICATED")]
    [InlineData(StatusCode.Internal, "INTERNAL")]
    public void From_StatusWithoutReason_Error(StatusCode status, string key)
    {
        // Act
        var outcome = Outcome.From(Rpc(status));

        // Assert
        Assert.Equal(OutcomeKind.Error, outcome.Kind);
        Assert.Equal(key, outcome.Key);
    }

    [Fact]
    public void RecordCompleted_RejectionsAndSuccesses_RejectionIsNotASuccess()
    {
        // Arrange
        var stats = new StreamStats(new StreamSpec { Name = "s", ApiKey = "k", Method = MeshMethod.GetBalance, Rate = 10 });
        for (var i = 0; i < 3; i++)
        {
            stats.RecordSent(TimeSpan.Zero);
        }

        // Act
        stats.RecordCompleted(Outcome.Success, TimeSpan.FromMilliseconds(5));
        stats.RecordCompleted(Outcome.From(Rpc(StatusCode.Unavailable, ("x-mesh-reject-reason", "queue-full"), ("grpc-retry-pushback-ms", "100"))), TimeSpan.FromMilliseconds(1));
        stats.RecordCompleted(Outcome.From(Rpc(StatusCode.DeadlineExceeded)), TimeSpan.FromSeconds(2));
        var result = stats.ToResult(TimeSpan.FromSeconds(1));

        // Assert
        Assert.Equal(3, result.Offered);
        Assert.Equal(1, result.Ok);
        Assert.Equal(1, result.Rejected);
        Assert.Equal(1, result.RejectedWithPushback);
        Assert.Equal(1, result.DeadlineExceeded);
        Assert.Equal(1, result.Goodput);
        Assert.Equal(1, result.Outcomes["UNAVAILABLE/queue-full"]);
        Assert.Equal(1, result.LatencyMs.Count);
        Assert.InRange(result.LatencyMs.P99, 4.99, 5.01);
    }

    private static RpcException Rpc(StatusCode status, params (string Key, string Value)[] trailers)
    {
        var metadata = new Metadata();
        foreach (var (key, value) in trailers)
        {
            metadata.Add(key, value);
        }

        return new RpcException(new Status(status, "test"), metadata);
    }
}
