using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.ServiceDefaults.Grpc;

namespace MeshBulkheads.Payments.Api;

/// <summary>
/// Argument checks with messages that name the field and what it accepts. Caller input is echoed only through
/// <see cref="EchoedValue.Quote"/> (bounded, control characters hidden).
/// </summary>
internal static class PaymentRequestValidation
{
    public const int MaxIdempotencyKeyLength = 128;

    public static void AccountId(string accountId)
    {
        if (string.IsNullOrEmpty(accountId))
        {
            throw GrpcErrors.InvalidArgument($"account_id is required: {AccountIdRule.Description}.");
        }

        if (!AccountIdRule.IsValid(accountId))
        {
            throw GrpcErrors.InvalidArgument($"account_id must be {AccountIdRule.Description} (got {EchoedValue.Quote(accountId)}, {accountId.Length} characters; e.g. use 'acct-0001').");
        }
    }

    public static void IdempotencyKey(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw GrpcErrors.InvalidArgument($"idempotency_key is required (1-{MaxIdempotencyKeyLength} characters): reuse the same key to retry a charge safely, a new one for a new charge.");
        }

        if (key.Length > MaxIdempotencyKeyLength)
        {
            throw GrpcErrors.InvalidArgument($"idempotency_key must be at most {MaxIdempotencyKeyLength} characters (got {key.Length}).");
        }

        // PostgreSQL text cannot hold NUL (the insert fails as UNKNOWN); no backend should store other
        // control characters in a key that is echoed in messages and logs either.
        var control = key.AsSpan().IndexOfAnyInRange('\u0000', '\u001f');
        if (control < 0)
        {
            control = key.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        if (control >= 0)
        {
            throw GrpcErrors.InvalidArgument($"idempotency_key must not contain control characters (U+{(int)key[control]:X4} at index {control} in {EchoedValue.Quote(key)}): use printable characters, e.g. a UUID.");
        }
    }

    public static void Amount(long amountMinor)
    {
        if (amountMinor <= 0)
        {
            throw GrpcErrors.InvalidArgument($"amount_minor must be greater than 0, in minor units (e.g. 1250 = 12.50); got {amountMinor}.");
        }
    }

    public static void Currency(string currency, IReadOnlySet<string> allowed, string allowedList)
    {
        if (!allowed.Contains(currency))
        {
            var shown = currency.Length == 0 ? "empty" : EchoedValue.Quote(currency);
            throw GrpcErrors.InvalidArgument($"currency {shown} is not supported: use one of {allowedList} (upper-case ISO 4217).");
        }
    }

    public static int PageSize(int pageSize, int defaultPageSize, int maxPageSize)
    {
        if (pageSize < 0 || pageSize > maxPageSize)
        {
            throw GrpcErrors.InvalidArgument($"page_size must be between 0 and {maxPageSize} (0 means the default, {defaultPageSize}); got {pageSize}.");
        }

        return pageSize == 0 ? defaultPageSize : pageSize;
    }
}
