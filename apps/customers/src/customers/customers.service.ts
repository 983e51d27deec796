import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { CustomersRepository, StoredCustomer } from '@zdm/customers-data-access';
import {
  CUSTOMERS_COLLECTION,
  Customer,
  CustomerData,
  DEFAULT_CUSTOMER_STATUS,
  ReadPlan,
  WritePlan,
  fullNameMigration,
  joinFullName,
  namesDisagree,
  readCustomer,
  splitFullName,
  storedShape,
} from '@zdm/customers-domain';
import { flagNames } from '@zdm/migrations-core';
import { answerFromStore, BuildSchemas, DEFAULT_PAGE_SIZE, FLAG_SOURCE, FlagSource, MigrationMetrics } from '@zdm/migrations-nest';
import { currentDeadline } from '@zdm/service-defaults';
import { CreateCustomerDto } from './dto/create-customer.dto';
import { CustomerPageResponse, CustomerResponse } from './dto/customer.response';
import { ListCustomersQuery } from './dto/list-customers.query';
import { UpdateCustomerDto } from './dto/update-customer.dto';

const FULL_NAME_FLAGS = flagNames(fullNameMigration.id);

/** The version at which `status` and `marketingPreferences` are stored. */
const V3 = 3;

const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/** The API view of a customer. */
export function toCustomerResponse(stored: StoredCustomer, customer: Customer): CustomerResponse {
  return { id: stored.id, ...customer, createdAt: isoOf(stored.doc['createdAt']), updatedAt: isoOf(stored.doc['updatedAt']) };
}

function invalid(field: string, error: string): BadRequestException {
  return new BadRequestException({ message: 'Validation failed', details: [{ field, errors: [error] }] });
}

/**
 * The name a request asks for, given the current one (absent on create); names are trimmed. `fullName` alone is split
 * at its last space unless it is the current full name (then the stored split stays); with both
 * parts it must equal them joined.
 */
export function requestedName(body: UpdateCustomerDto, current?: Customer): { firstName: string; lastName: string } {
  const [firstName, lastName, fullName] = [body.firstName, body.lastName, body.fullName].map((name) => name?.trim());
  if (fullName === undefined) {
    const name = { firstName: firstName ?? current?.firstName, lastName: lastName ?? current?.lastName };
    if (name.firstName === undefined || name.lastName === undefined) throw invalid('firstName', 'give firstName and lastName, or fullName');
    return { firstName: name.firstName, lastName: name.lastName };
  }
  if (firstName !== undefined && lastName !== undefined) {
    if (joinFullName({ firstName, lastName }) !== fullName) throw invalid('fullName', 'fullName must equal firstName and lastName joined by one space');
    return { firstName, lastName };
  }
  if (firstName !== undefined || lastName !== undefined) throw invalid('fullName', 'give fullName alone, or together with both firstName and lastName');
  if (current && current.fullName === fullName) return { firstName: current.firstName, lastName: current.lastName };
  return splitFullName(fullName);
}

/**
 * Customers over the versioned store. Each request takes the flags once: the write plan (which
 * version, whether the old name fields are still written) and the read plan (which name fields
 * are the truth), so one request never mixes two phases.
 */
@Injectable()
export class CustomersService {
  private readonly log = new Logger(CustomersService.name);

  constructor(
    private readonly customers: CustomersRepository,
    private readonly schemas: BuildSchemas,
    private readonly metrics: MigrationMetrics,
    @Inject(FLAG_SOURCE) private readonly flags: FlagSource,
  ) {}

  create(body: CreateCustomerDto): Promise<CustomerResponse> {
    const { write, read } = this.plans();
    this.assertWritable(body, write);
    const customer: CustomerData = {
      ...requestedName(body),
      status: body.status ?? DEFAULT_CUSTOMER_STATUS,
      marketingPreferences: body.marketingPreferences ?? null,
    };
    return answerFromStore(async () => this.view(await this.customers.insert(storedShape(customer, write).set, write.version), read));
  }

  get(id: string): Promise<CustomerResponse> {
    return answerFromStore(async () => this.view(found(id, await this.customers.findById(id)), this.plans().read));
  }

  list(query: ListCustomersQuery): Promise<CustomerPageResponse> {
    const { read } = this.plans();
    return answerFromStore(async () => {
      const page = await this.customers.page(query.limit ?? DEFAULT_PAGE_SIZE, query.after);
      return { items: page.items.map((stored) => this.view(stored, read)), next: page.next };
    });
  }

  update(id: string, body: UpdateCustomerDto): Promise<CustomerResponse> {
    if (Object.values(body).every((v) => v === undefined)) {
      throw invalid('body', 'give at least one of firstName, lastName, fullName, status, marketingPreferences');
    }
    const { write, read } = this.plans();
    this.assertWritable(body, write);
    return answerFromStore(async () => {
      const updated = await this.customers.update(id, (current) => {
        const now = readCustomer(current.doc, read);
        const next: CustomerData = {
          ...requestedName(body, now),
          status: body.status ?? now.status,
          marketingPreferences: body.marketingPreferences !== undefined ? body.marketingPreferences : now.marketingPreferences,
        };
        return storedShape(next, write);
      }, { version: write.version, deadline: currentDeadline() });
      return this.view(found(id, updated), read);
    });
  }

  remove(id: string): Promise<void> {
    return answerFromStore(async () => {
      if (!(await this.customers.remove(id, { deadline: currentDeadline() }))) throw notFound(id);
    });
  }

  private plans(): { write: WritePlan; read: ReadPlan } {
    return {
      write: { version: this.schemas.writeVersion(CUSTOMERS_COLLECTION), writeOld: this.flags.isEnabled(FULL_NAME_FLAGS.writeOld) },
      read: { readNew: this.flags.isEnabled(FULL_NAME_FLAGS.readNew) },
    };
  }

  /** v3 fields can only be stored by an instance that writes v3; before that they are a 409, not silently dropped. */
  private assertWritable(body: UpdateCustomerDto, write: WritePlan) {
    if (write.version >= V3 || (body.status === undefined && body.marketingPreferences === undefined)) return;
    throw new ConflictException(
      `status and marketingPreferences can be written once this instance writes customers v${V3} (customers.status rollout); it writes v${write.version} now`,
    );
  }

  /** The response for a stored customer; counts a shadow-read mismatch when its two name shapes disagree. */
  private view(stored: StoredCustomer, read: ReadPlan): CustomerResponse {
    if (namesDisagree(stored.doc)) {
      this.metrics.recordShadowMismatch(fullNameMigration.id);
      this.log.warn(`customer ${stored.id}: firstName/lastName and fullName disagree; serving ${read.readNew ? 'fullName' : 'firstName/lastName'}`);
    }
    return toCustomerResponse(stored, readCustomer(stored.doc, read));
  }
}

function notFound(id: string) {
  return new NotFoundException(`customer ${id} not found`);
}

function found(id: string, stored: StoredCustomer | null): StoredCustomer {
  if (!stored) throw notFound(id);
  return stored;
}
