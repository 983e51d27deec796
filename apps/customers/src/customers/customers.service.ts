import { BadRequestException, ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { CustomersRepository, CustomerWriteConflictError, StoredCustomer, isUnreadableVersion } from '@zdm/customers-data-access';
import { CreateCustomerDto } from './dto/create-customer.dto';
import { CustomerPageResponse, CustomerResponse } from './dto/customer.response';
import { ListCustomersQuery } from './dto/list-customers.query';
import { UpdateCustomerDto } from './dto/update-customer.dto';

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/** The API view of a stored customer. */
export function toCustomerResponse(stored: StoredCustomer): CustomerResponse {
  const { doc } = stored;
  return {
    id: stored.id,
    firstName: String(doc['firstName']),
    lastName: String(doc['lastName']),
    createdAt: isoOf(doc['createdAt']),
    updatedAt: isoOf(doc['updatedAt']),
  };
}

/**
 * Errors of the store as HTTP answers: a document this build cannot read is a 503 (this instance
 * must not serve it; its readiness says so too), and an update that kept losing races is a 409.
 */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUnreadableVersion(err)) throw new ServiceUnavailableException(err.message);
    if (err instanceof CustomerWriteConflictError) throw new ConflictException(err.message);
    throw err;
  }
}

@Injectable()
export class CustomersService {
  constructor(private readonly customers: CustomersRepository) {}

  create(body: CreateCustomerDto): Promise<CustomerResponse> {
    return answering(async () => toCustomerResponse(await this.customers.insert({ firstName: body.firstName, lastName: body.lastName })));
  }

  get(id: string): Promise<CustomerResponse> {
    return answering(async () => toCustomerResponse(found(id, await this.customers.findById(id))));
  }

  list(query: ListCustomersQuery): Promise<CustomerPageResponse> {
    return answering(async () => {
      const page = await this.customers.page(query.limit ?? DEFAULT_PAGE_SIZE, query.after);
      return { items: page.items.map(toCustomerResponse), next: page.next };
    });
  }

  update(id: string, body: UpdateCustomerDto): Promise<CustomerResponse> {
    const set = Object.fromEntries(Object.entries({ firstName: body.firstName, lastName: body.lastName }).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length === 0) {
      throw new BadRequestException({ message: 'Validation failed', details: [{ field: 'body', errors: ['give at least one of firstName, lastName'] }] });
    }
    return answering(async () => toCustomerResponse(found(id, await this.customers.update(id, () => ({ set })))));
  }

  remove(id: string): Promise<void> {
    return answering(async () => {
      if (!(await this.customers.remove(id))) throw notFound(id);
    });
  }
}

function notFound(id: string) {
  return new NotFoundException(`customer ${id} not found`);
}

function found(id: string, stored: StoredCustomer | null): StoredCustomer {
  if (!stored) throw notFound(id);
  return stored;
}
