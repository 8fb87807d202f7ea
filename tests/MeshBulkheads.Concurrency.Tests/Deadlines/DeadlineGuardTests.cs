using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Tests.Deadlines;

public sealed class DeadlineGuardTests
{
    [Fact]
    public void HasPassed_BeforeAtAndAfterTheDeadline_OnlyFromTheDeadlineOn()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(100);

        // Act
        var before = DeadlineGuard.HasPassed(deadline, time);
        time.Advance(TimeSpan.FromMilliseconds(100));
        var at = DeadlineGuard.HasPassed(deadline, time);

        // Assert
        Assert.False(before);
        Assert.True(at);
        Assert.False(DeadlineGuard.HasPassed((DateTimeOffset?)null, time));
        Assert.False(DeadlineGuard.HasPassed(long.MaxValue, long.MaxValue));
        Assert.True(DeadlineGuard.HasPassed(10, 10));
    }

    [Fact]
    public void FromGrpc_MaxValueAndUtc_NoneAndTheSameInstant()
    {
        // Arrange
        var utc = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

        // Act
        var none = DeadlineGuard.FromGrpc(DateTime.MaxValue);
        var roundTrip = DeadlineGuard.ToGrpc(DeadlineGuard.FromGrpc(utc)!.Value);

        // Assert
        Assert.Null(none);
        Assert.Equal(utc, roundTrip);
        Assert.Equal(DateTimeKind.Utc, roundTrip.Kind);
    }

    [Theory]
    [InlineData(-20, false)]
    [InlineData(-10, true)]
    [InlineData(0, true)]
    public void ExplainsCancellation_TimerFiredJustBeforeTheDeadline_CountsAsTheDeadline(int offsetMs, bool expected)
    {
        // Arrange: a deadline 'offsetMs' from now (negative: still ahead by that much).
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var deadline = time.GetUtcNow() - TimeSpan.FromMilliseconds(offsetMs);

        // Act
        var explained = DeadlineGuard.ExplainsCancellation(deadline, time);
        var explainedAtNow = DeadlineGuard.ExplainsCancellation(deadline, time.GetUtcNow());

        // Assert
        Assert.Equal(expected, explained);
        Assert.Equal(expected, explainedAtNow);
        Assert.False(DeadlineGuard.ExplainsCancellation(null, time));
        Assert.False(DeadlineGuard.ExplainsCancellation(null, time.GetUtcNow()));
    }
}
