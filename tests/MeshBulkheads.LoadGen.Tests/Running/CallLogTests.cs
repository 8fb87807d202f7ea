using System.Collections.Concurrent;
using System.Text.Json;
using MeshBulkheads.Contracts.Payments.V1;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.LoadGen.Tests.Running;

/// <summary>
/// <c>--call-log</c> and retries: every attempt of one charge carries the same idempotency key (so a retry
/// replays instead of charging twice), and the log names each acknowledged payment, the chaos audit's input.
/// </summary>
public sealed class CallLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meshload-calllog-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Run_ChargeRetriedAfterUnavailable_SameKeyEveryAttemptAndLoggedOnce()
    {
        // Arrange: a payments fake that refuses the first attempt of every key and acknowledges the second.
        var flaky = new FlakyPayments();
        await using var server = await H2cHost.StartAsync(
            builder => builder.Services.AddGrpc().Services.AddSingleton(flaky),
            app => app.MapGrpcService<FlakyPayments>());
        var log = Path.Combine(_directory, "calls.jsonl");
        var (io, _, _) = MeshLoadAppTests.Io();

        // Act: --max-lag 10s, because this test is about the log, not the schedule (in a full parallel run the generator's
        // own lag once passed the default 100 ms and the run was declared invalid, exit 2).
        var exit = await MeshLoadApp.RunAsync(
            ["run", "--target", server.Address.ToString(), "--stream", "name=charges,method=Charge,rate=20", "--duration", "1s", "--attempts", "2", "--max-lag", "10s", "--call-log", log, "--json"],
            io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var calls = (await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(20, calls.Length);
        Assert.All(calls, call =>
        {
            var key = call.GetProperty("idempotencyKey").GetString()!;
            Assert.Equal("OK", call.GetProperty("status").GetString());
            Assert.Equal("UNAVAILABLE", call.GetProperty("firstAttempt").GetString());
            Assert.Equal(2, call.GetProperty("attempts").GetInt32());
            Assert.Equal("pay-" + key, call.GetProperty("paymentId").GetString());
            Assert.Equal(2, flaky.Attempts[key]);
            Assert.True(call.GetProperty("endMs").GetDouble() >= call.GetProperty("dueMs").GetDouble());
            Assert.True(call.GetProperty("runStartUnixMs").GetInt64() > 0);
        });
        Assert.Equal(20, calls.Select(c => c.GetProperty("idempotencyKey").GetString()).Distinct().Count());
        Assert.Equal(20, flaky.Attempts.Count);
    }

    [Fact]
    public async Task Run_EveryChargeShedWithPushback_LogRecordsReasonAndPushbackOfEachCall()
    {
        // Arrange: a payments fake that sheds every charge as the mesh does (reason + grpc-retry-pushback-ms).
        await using var server = await H2cHost.StartAsync(
            builder => builder.Services.AddGrpc(),
            app => app.MapGrpcService<SheddingPayments>());
        var log = Path.Combine(_directory, "shed.jsonl");
        var (io, _, _) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(
            ["run", "--target", server.Address.ToString(), "--stream", "name=charges,method=Charge,rate=10", "--duration", "1s", "--max-lag", "10s", "--call-log", log, "--json"],
            io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var calls = (await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(10, calls.Length);
        Assert.All(calls, call =>
        {
            Assert.Equal("UNAVAILABLE", call.GetProperty("status").GetString());
            Assert.Equal("queue-timeout", call.GetProperty("reason").GetString());
            Assert.Equal(SheddingPayments.PushbackMs, call.GetProperty("pushbackMs").GetInt64());
        });
    }

    private sealed class SheddingPayments : PaymentsService.PaymentsServiceBase
    {
        public const long PushbackMs = 250;

        public override Task<ChargeResponse> Charge(ChargeRequest request, ServerCallContext context) =>
            throw new RpcException(new Status(StatusCode.Unavailable, "shed"), new Metadata
            {
                { "x-mesh-reject-reason", "queue-timeout" },
                { "grpc-retry-pushback-ms", PushbackMs.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            });
    }

    private sealed class FlakyPayments : PaymentsService.PaymentsServiceBase
    {
        public ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);

        public override Task<ChargeResponse> Charge(ChargeRequest request, ServerCallContext context)
        {
            var attempt = Attempts.AddOrUpdate(request.IdempotencyKey, 1, (_, n) => n + 1);
            return attempt == 1
                ? throw new RpcException(new Status(StatusCode.Unavailable, "first attempt refused"))
                : Task.FromResult(new ChargeResponse { PaymentId = "pay-" + request.IdempotencyKey, BalanceMinor = 100 });
        }
    }
}
