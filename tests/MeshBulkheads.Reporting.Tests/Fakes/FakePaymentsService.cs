using System.Collections.Concurrent;
using MeshBulkheads.Contracts.Payments.V1;

namespace MeshBulkheads.Reporting.Tests.Fakes;

/// <summary>
/// An in-process payments stand-in that records every GetBalance attempt (tenant, criticality,
/// deadline), tracks its own concurrency, and can hold calls on a gate or fail them on demand.
/// </summary>
public sealed class FakePaymentsService : PaymentsService.PaymentsServiceBase
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _arrivalSignals = new();
    private int _arrivals;
    private int _current;
    private int _max;

    public ConcurrentDictionary<string, (long Balance, long Count, string Currency)> Accounts { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    public ConcurrentDictionary<string, int> AttemptsByAccount { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, every call waits for it (or for its own cancellation).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Holds every call from now on until <see cref="ReleaseCalls"/> (or its own cancellation).</summary>
    public void HoldCalls() => Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseCalls() => Gate?.TrySetResult();

    /// <summary>When set, decides per (account, attempt number) whether to fail the call.</summary>
    public Func<string, int, RpcException?>? Failure { get; set; }

    /// <summary>When above 0, a failing call waits until this many calls have arrived before it fails.</summary>
    public int FailAfterArrivals { get; set; }

    /// <summary>Accounts whose held call saw its server-side cancellation token fire.</summary>
    public ConcurrentQueue<string> CancelledAccounts { get; } = new();

    public int MaxConcurrency => Volatile.Read(ref _max);

    public int CurrentConcurrency => Volatile.Read(ref _current);

    /// <summary>Completes when at least <paramref name="count"/> calls have arrived.</summary>
    public Task WhenArrivedAsync(int count)
    {
        var signal = _arrivalSignals.GetOrAdd(count, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Volatile.Read(ref _arrivals) >= count)
        {
            signal.TrySetResult();
        }

        return signal.Task;
    }

    public void AddAccounts(int count, long balance = 100, string currency = "USD")
    {
        for (var i = 1; i <= count; i++)
        {
            Accounts[$"acct-{i:0000}"] = (balance * i, i, currency);
        }
    }

    public override async Task<GetBalanceResponse> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        var attempt = AttemptsByAccount.AddOrUpdate(request.AccountId, 1, (_, n) => n + 1);
        Calls.Enqueue(new RecordedCall(
            request.AccountId,
            context.RequestHeaders.GetValue("x-tenant-id"),
            context.RequestHeaders.GetValue("x-mesh-criticality"),
            context.Deadline,
            attempt));

        var current = Interlocked.Increment(ref _current);
        UpdateMax(current);
        var arrived = Interlocked.Increment(ref _arrivals);
        foreach (var (count, signal) in _arrivalSignals)
        {
            if (arrived >= count)
            {
                signal.TrySetResult();
            }
        }

        try
        {
            // Failures come before the gate, so one account can fail while its siblings are held.
            if (Failure?.Invoke(request.AccountId, attempt) is { } failure)
            {
                if (FailAfterArrivals > 0)
                {
                    await WhenArrivedAsync(FailAfterArrivals).WaitAsync(context.CancellationToken);
                }

                throw failure;
            }

            if (Gate is { } gate)
            {
                try
                {
                    await gate.Task.WaitAsync(context.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    CancelledAccounts.Enqueue(request.AccountId);
                    throw;
                }
            }

            if (!Accounts.TryGetValue(request.AccountId, out var account))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"Account '{request.AccountId}' not found."));
            }

            return new GetBalanceResponse
            {
                AccountId = request.AccountId,
                BalanceMinor = account.Balance,
                PaymentCount = account.Count,
                Currency = account.Currency,
            };
        }
        finally
        {
            Interlocked.Decrement(ref _current);
        }
    }

    private void UpdateMax(int current)
    {
        var max = Volatile.Read(ref _max);
        while (current > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, current, max);
            if (seen == max)
            {
                return;
            }

            max = seen;
        }
    }
}

public sealed record RecordedCall(string AccountId, string? TenantId, string? Criticality, DateTime Deadline, int Attempt);
