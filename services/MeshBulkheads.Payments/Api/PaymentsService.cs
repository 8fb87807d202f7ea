using MeshBulkheads.Concurrency.Rejections;
using Google.Protobuf.WellKnownTypes;
using MeshBulkheads.ServiceDefaults.Telemetry;
using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.Payments.Partitions;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.ServiceDefaults.Tenancy;

namespace MeshBulkheads.Payments.Api;

/// <summary>
/// The gRPC surface of payments: validates, resolves the tenant, calls the <see cref="ILedgerStore"/>
/// and maps outcomes to the contract's statuses. No business rules live here.
/// </summary>
public sealed class PaymentsService : Contracts.Payments.V1.PaymentsService.PaymentsServiceBase
{
    /// <summary>The <c>x-mesh-reject-reason</c> when no database connection became free in time.</summary>
    public const string PoolTimeoutReason = PaymentsRejections.PoolTimeoutReason;

    /// <summary>The <c>x-mesh-reject-reason</c> when the account's partition mailbox is full.</summary>
    public const string PartitionFullReason = PaymentsRejections.PartitionFullReason;

    private readonly ILedgerStore _store;
    private readonly ChargePartitions _partitions;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PaymentsService> _logger;
    private readonly LogThrottle _logThrottle;
    private readonly PageTokenProtector _pageTokens;
    private readonly IReadOnlySet<string> _currencies;
    private readonly string _currencyList;
    private readonly int _defaultPageSize;
    private readonly int _maxPageSize;

    public PaymentsService(
        ILedgerStore store,
        ChargePartitions partitions,
        IOptions<PaymentsOptions> options,
        TimeProvider timeProvider,
        ILogger<PaymentsService> logger,
        LogThrottle logThrottle,
        PageTokenProtector pageTokens)
    {
        _store = store;
        _pageTokens = pageTokens;
        _partitions = partitions;
        _timeProvider = timeProvider;
        _logger = logger;
        _logThrottle = logThrottle;
        var value = options.Value;
        _currencies = value.CurrencySet();
        _currencyList = string.Join(", ", _currencies.Order(StringComparer.Ordinal));
        _defaultPageSize = value.DefaultPageSize;
        _maxPageSize = value.MaxPageSize;
    }

    /// <inheritdoc/>
    public override async Task<ChargeResponse> Charge(ChargeRequest request, ServerCallContext context)
    {
        var tenant = TenantMetadata.RequireTenant(context);
        PaymentRequestValidation.AccountId(request.AccountId);
        PaymentRequestValidation.IdempotencyKey(request.IdempotencyKey);
        PaymentRequestValidation.Amount(request.AmountMinor);
        PaymentRequestValidation.Currency(request.Currency, _currencies, _currencyList);

        var command = new ChargeCommand(tenant, request.AccountId, request.AmountMinor, request.Currency, request.IdempotencyKey);
        ChargeResult result;
        try
        {
            // The account's mailbox runs its charges one at a time, in the order they arrived here.
            result = await _partitions.RunAsync(
                tenant,
                request.AccountId,
                request.IdempotencyKey,
                ct => WithPoolAsync(() => _store.ChargeAsync(command, ct)),
                context.CancellationToken);
        }
        catch (PartitionRejectedException ex)
        {
            throw PaymentsRejections.Partition(ex);
        }
        catch (PartitionWorkAbandonedException ex) when (!ex.WorkStarted)
        {
            throw PaymentsRejections.GoneWhileQueued(context, _timeProvider.GetUtcNow());
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // Started (or unknown): the charge may have committed, so never say "not recorded".
            throw PaymentsRejections.GoneWhileRunning(context, _timeProvider.GetUtcNow(), request.IdempotencyKey);
        }

        return result.Status switch
        {
            ChargeStatus.Recorded or ChargeStatus.Replayed => new ChargeResponse
            {
                PaymentId = result.PaymentId,
                BalanceMinor = result.BalanceMinor,
                Replayed = result.Status == ChargeStatus.Replayed,
            },
            ChargeStatus.CurrencyMismatch => throw GrpcErrors.FailedPrecondition(
                $"Account {EchoedValue.Quote(request.AccountId)} is in {result.Conflicting?.Currency}; a charge in {request.Currency} cannot be recorded against it. Charge in {result.Conflicting?.Currency} or use another account."),
            ChargeStatus.Overflow => throw GrpcErrors.FailedPrecondition(
                $"Account {EchoedValue.Quote(request.AccountId)} has balance_minor {result.BalanceMinor}; adding {request.AmountMinor} would exceed the maximum {long.MaxValue}. Use another account."),
            ChargeStatus.IdempotencyConflict => throw GrpcErrors.AlreadyExists(
                $"idempotency_key {EchoedValue.Quote(request.IdempotencyKey)} was already used for a different charge (account_id {EchoedValue.Quote(result.Conflicting?.AccountId)}, amount_minor {result.Conflicting?.AmountMinor}, currency {result.Conflicting?.Currency}); use a new key for a new charge, or resend the original payload to replay it."),
            _ => throw new InvalidOperationException($"Unexpected charge status {result.Status}."),
        };
    }

    /// <inheritdoc/>
    public override async Task<GetBalanceResponse> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        var tenant = TenantMetadata.RequireTenant(context);
        PaymentRequestValidation.AccountId(request.AccountId);

        var balance = await WithPoolAsync(() => _store.GetBalanceAsync(tenant, request.AccountId, context.CancellationToken))
            ?? throw AccountNotFound(request.AccountId);
        return new GetBalanceResponse
        {
            AccountId = balance.AccountId,
            BalanceMinor = balance.BalanceMinor,
            Currency = balance.Currency,
            PaymentCount = balance.PaymentCount,
        };
    }

    /// <inheritdoc/>
    public override async Task<ListPaymentsResponse> ListPayments(ListPaymentsRequest request, ServerCallContext context)
    {
        var tenant = TenantMetadata.RequireTenant(context);
        PaymentRequestValidation.AccountId(request.AccountId);
        var pageSize = PaymentRequestValidation.PageSize(request.PageSize, _defaultPageSize, _maxPageSize);
        long? before = null;
        if (request.PageToken.Length > 0)
        {
            if (!_pageTokens.TryOpen(request.PageToken, tenant, request.AccountId, out before))
            {
                throw GrpcErrors.InvalidArgument(
                    $"page_token is not a token this service issued for account_id {EchoedValue.Quote(request.AccountId)}: pass next_page_token from the previous response for the same account unchanged, or an empty token for the first page.");
            }
        }

        var page = await WithPoolAsync(() => _store.ListPaymentsAsync(tenant, request.AccountId, pageSize, before, context.CancellationToken))
            ?? throw AccountNotFound(request.AccountId);
        var response = new ListPaymentsResponse
        {
            NextPageToken = page.NextBeforeSequence is { } next ? _pageTokens.Seal(tenant, request.AccountId, next) : string.Empty,
        };
        foreach (var payment in page.Payments)
        {
            response.Payments.Add(new Payment
            {
                PaymentId = payment.PaymentId,
                AmountMinor = payment.AmountMinor,
                CreatedAt = Timestamp.FromDateTimeOffset(payment.CreatedAt),
            });
        }

        return response;
    }

    private static RpcException AccountNotFound(string accountId) =>
        GrpcErrors.NotFound($"Account {EchoedValue.Quote(accountId)} does not exist for this tenant; an account is created by its first Charge.");

    private async Task<T> WithPoolAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (DbPoolTimeoutException ex)
        {
            // One line per pool per interval, no stack trace: under overload this fires on every call.
            if (_logThrottle.ShouldLog("pool-timeout:" + ex.Pool, out var suppressed))
            {
                PaymentsLog.PoolTimeout(_logger, ex.Pool, ex.Message, suppressed);
            }

            // Thrown before any response header: the status and metadata go out as a Trailers-Only response.
            throw PaymentsRejections.PoolTimeout(ex);
        }
        catch (DbUnavailableException ex)
        {
            if (_logThrottle.ShouldLog("db-unavailable:" + ex.Pool, out var suppressed))
            {
                PaymentsLog.DatabaseUnavailable(_logger, ex.Pool, ex.Message, suppressed);
            }

            throw PaymentsRejections.DbUnavailable(ex);
        }
    }
}
