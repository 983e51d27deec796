import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { OrdersRepository, StoredOrder } from '@zdm/orders-data-access';
import { CustomersClient } from '@zdm/orders-customers-client';
import {
  INITIAL_ORDER_STATUS,
  ORDERS_COLLECTION,
  Order,
  OrderLine,
  OrderReadPlan,
  OrderStatus,
  OrderWritePlan,
  customerSnapshotMigration,
  moneyMigration,
  moneyShapesDisagree,
  orderTotalMinor,
  readOrder,
  storedOrder,
  toMinorUnits,
  transitionProblem,
} from '@zdm/orders-domain';
import { flagNames } from '@zdm/migrations-core';
import { answerFromStore, BuildSchemas, DEFAULT_PAGE_SIZE, FLAG_SOURCE, FlagSource, MigrationMetrics } from '@zdm/migrations-nest';
import { currentDeadline, FieldError } from '@zdm/service-defaults';
import { ChangeStatusDto } from './dto/change-status.dto';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import { OrderPageResponse, OrderResponse } from './dto/order.response';

/** Injection token of the customers API client. */
export const CUSTOMERS_CLIENT = Symbol('orders:CUSTOMERS_CLIENT');

const MONEY_FLAGS = flagNames(moneyMigration.id);
const SNAPSHOT_FLAGS = flagNames(customerSnapshotMigration.id);

const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/** The API view of a stored order read under `plan`. */
export function toOrderResponse(stored: StoredOrder, plan: OrderReadPlan): OrderResponse {
  return { id: stored.id, ...readOrder(stored.doc, plan), createdAt: isoOf(stored.doc['createdAt']), updatedAt: isoOf(stored.doc['updatedAt']) };
}

function invalid(details: FieldError[]): BadRequestException {
  return new BadRequestException({ message: 'Validation failed', details });
}

/** The lines of a valid body in minor units, or a 400 naming every price that has none (too many decimals, 2^53). */
export function linesInMinorUnits(body: CreateOrderDto): { lines: OrderLine[]; totalMinor: number } {
  const problems: FieldError[] = [];
  const lines = body.lines.map((line, i) => {
    const price = toMinorUnits(line.unitPrice, body.currency, 'unitPrice');
    if (!price.ok) problems.push({ field: `lines.${i}.unitPrice`, errors: [price.problem] });
    return { sku: line.sku, quantity: line.quantity, unitPriceMinor: price.ok ? price.minor : 0 };
  });
  if (problems.length) throw invalid(problems);
  const totalMinor = orderTotalMinor(lines);
  if (totalMinor === undefined) throw invalid([{ field: 'lines', errors: [`the total of the lines is more than 2^53-1 ${body.currency} minor units`] }]);
  return { lines, totalMinor };
}

/** Orders over the versioned store; each new order checks its customer through the customers API. */
@Injectable()
export class OrdersService {
  private readonly log = new Logger(OrdersService.name);

  constructor(
    private readonly orders: OrdersRepository,
    private readonly schemas: BuildSchemas,
    private readonly metrics: MigrationMetrics,
    @Inject(FLAG_SOURCE) private readonly flags: FlagSource,
    @Inject(CUSTOMERS_CLIENT) private readonly customers: CustomersClient,
  ) {}

  async create(body: CreateOrderDto): Promise<OrderResponse> {
    const { lines, totalMinor } = linesInMinorUnits(body);
    const customer = await this.customer(body.customerId);
    const order: Order = {
      customerId: body.customerId.toLowerCase(),
      customer: { firstName: customer.firstName, lastName: customer.lastName, fullName: customer.fullName },
      currency: body.currency,
      lines,
      totalMinor,
      status: INITIAL_ORDER_STATUS,
    };
    const { write, read } = this.plans();
    return answerFromStore(async () => this.view(await this.orders.insert(storedOrder(order, write).set, write.version), read));
  }

  get(id: string): Promise<OrderResponse> {
    return answerFromStore(async () => this.view(found(id, await this.orders.findById(id)), this.plans().read));
  }

  list(query: ListOrdersQuery): Promise<OrderPageResponse> {
    return answerFromStore(async () => {
      const filter = query.customerId ? { customerId: query.customerId.toLowerCase() } : {};
      const page = await this.orders.page(query.limit ?? DEFAULT_PAGE_SIZE, query.after, filter);
      const { read } = this.plans();
      return { items: page.items.map((stored) => this.view(stored, read)), next: page.next };
    });
  }

  changeStatus(id: string, body: ChangeStatusDto): Promise<OrderResponse> {
    return answerFromStore(async () => {
      const updated = await this.orders.update(
        id,
        (current) => {
          const problem = transitionProblem(current.doc['status'] as OrderStatus, body.status);
          if (problem) throw new ConflictException(`order ${id}: ${problem}`);
          return { set: { status: body.status } };
        },
        { deadline: currentDeadline() },
      );
      return this.view(found(id, updated), this.plans().read);
    });
  }

  /** The write and read plans of this request, from the flags of orders.money and orders.customer-snapshot, taken once. */
  private plans(): { write: OrderWritePlan; read: OrderReadPlan } {
    return {
      write: {
        version: this.schemas.writeVersion(ORDERS_COLLECTION),
        writeOld: this.flags.isEnabled(MONEY_FLAGS.writeOld),
        writeOldSnapshot: this.flags.isEnabled(SNAPSHOT_FLAGS.writeOld),
      },
      read: { readNew: this.flags.isEnabled(MONEY_FLAGS.readNew), readNewSnapshot: this.flags.isEnabled(SNAPSHOT_FLAGS.readNew) },
    };
  }

  /** The response for a stored order; counts a shadow-read mismatch when its two money shapes disagree. */
  private view(stored: StoredOrder, read: OrderReadPlan): OrderResponse {
    if (moneyShapesDisagree(stored.doc)) {
      this.metrics.recordShadowMismatch(moneyMigration.id);
      this.log.warn(`order ${stored.id}: total/lines and totalMoney/items disagree; serving ${read.readNew ? 'totalMoney/items' : 'total/lines'}`);
    }
    return toOrderResponse(stored, read);
  }

  /**
   * The customer of a new order: 422 naming customerId when there is none. The client waits no longer
   * than this request's deadline; when the customers API cannot answer, its `CustomersUnavailableError`
   * (a `DependencyUnavailableError`) is a 503 with Retry-After naming `customers`.
   */
  private async customer(customerId: string) {
    const customer = await this.customers.getCustomer(customerId);
    if (!customer) {
      throw new UnprocessableEntityException({ message: 'Validation failed', details: [{ field: 'customerId', errors: [`customer ${customerId} does not exist`] }] });
    }
    return customer;
  }
}

function found(id: string, stored: StoredOrder | null): StoredOrder {
  if (!stored) throw new NotFoundException(`order ${id} not found`);
  return stored;
}
