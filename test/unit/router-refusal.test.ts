import { status } from '@grpc/grpc-js';
import { ServiceError } from '@temporalio/client';
import { permanentRefusal } from '../../clients/router/router';

// Which Temporal errors make the router dead-letter a message instead of waiting on it for ever.

function grpcError(code: number, details: string) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { get: () => [] } });
}

test('INVALID_ARGUMENT is permanent, with the server’s reason', () => {
  const err = new ServiceError('signalWithStart failed', {
    cause: grpcError(status.INVALID_ARGUMENT, 'WorkflowId length exceeds limit.'),
  });
  expect(permanentRefusal(err)).toBe('INVALID_ARGUMENT: WorkflowId length exceeds limit.');
});

test.each([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.FAILED_PRECONDITION])(
  'gRPC code %i is worth waiting for',
  (code) => {
    expect(permanentRefusal(new ServiceError('failed', { cause: grpcError(code, 'try later') }))).toBeUndefined();
  },
);

test('an error that is not from Temporal is not a refusal', () => {
  expect(permanentRefusal(new Error('socket hang up'))).toBeUndefined();
});
