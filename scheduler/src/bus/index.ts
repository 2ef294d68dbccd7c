export type {
  Bus,
  RequestOptions,
  ServeOptions,
  PublishOptions,
  SubscribeOptions,
  MessageContext,
  RequestHandler,
  EventHandler,
  Subscription,
} from './bus.js';
export {
  defineContract,
  defineEvent,
  checkMessage,
  type Contract,
  type EventContract,
  type RequestIn,
  type RequestOut,
  type ReplyIn,
  type ReplyOut,
  type MessageIn,
  type MessageOut,
} from './contract.js';
export {
  BusError,
  NoRespondersError,
  BusTimeoutError,
  BusClosedError,
  InvalidSubjectError,
  BusContractError,
  RemoteError,
  MessageTooLargeError,
  BusConnectError,
  type ErrorDetails,
} from './errors.js';
export { parseSubject, within, resolveSubject } from './subjects.js';
export type { Transport, TransportSubscription, Inbound } from './transport.js';
export { WireErrorSchema, WireReplySchema, toWireError, fromWireError, type WireError, type WireReply } from './wire.js';
export { ContractBus, type ContractBusOptions } from './contract-bus.js';
export { InProcessBus, InProcessHub, InProcessTransport, type InProcessBusOptions } from './in-process.js';
export { NatsBus, NatsTransport, DEFAULT_SUBJECT_PREFIX, type NatsBusOptions, type NatsTransportOptions } from './nats.js';
export { encodeFrame, decodeFrame, FrameError } from './frame.js';
