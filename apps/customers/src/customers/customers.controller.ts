import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { RequiresAccessToken } from '@zdm/auth-guard';
import { ObjectIdParam } from '@zdm/migrations-nest';
import { ErrorResponseBody } from '@zdm/service-defaults';
import { CustomerIdPipe } from './customer-id.pipe';
import { CustomersService } from './customers.service';
import { CreateCustomerDto } from './dto/create-customer.dto';
import { BODY_SHAPES, CreateCustomerByFullName, CreateCustomerByParts, UpdateCustomerByFullName, UpdateCustomerByParts } from './dto/customer-body.shapes';
import { CustomerPageResponse, CustomerResponse } from './dto/customer.response';
import { ListCustomersQuery } from './dto/list-customers.query';
import { UpdateCustomerDto } from './dto/update-customer.dto';

const oneOf = (...shapes: (new () => unknown)[]) => ({ oneOf: shapes.map((shape) => ({ $ref: getSchemaPath(shape) })) });

/** The `id` path parameter as the document states it. */
const CustomerIdParam = () => ObjectIdParam('Customer id');

/** 409 as the write routes send it. */
const ConflictAnswer = () =>
  ApiConflictResponse({
    type: ErrorResponseBody,
    description: 'status/marketingPreferences before this instance writes v3, or the customer kept changing under concurrent writes (retry)',
  });

// 400, 413 (with a body), 503 and 504 are added to every route by the service defaults.
@ApiTags('customers')
@ApiExtraModels(...BODY_SHAPES)
@ApiServiceUnavailableResponse({
  type: ErrorResponseBody,
  description: 'The store (`dependency: "mongo"`) is down or did not answer before the deadline, or this instance cannot read the stored version of a document (it is an older build)',
})
@Controller('customers')
export class CustomersController {
  constructor(private readonly customers: CustomersService) {}

  @Post()
  @RequiresAccessToken()
  @ApiOperation({ summary: 'Create a customer' })
  @ApiBody({ schema: oneOf(CreateCustomerByParts, CreateCustomerByFullName), description: 'firstName and lastName, or fullName (all three are accepted too when they agree)' })
  @ApiCreatedResponse({ type: CustomerResponse })
  @ConflictAnswer()
  create(@Body() body: CreateCustomerDto): Promise<CustomerResponse> {
    return this.customers.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List customers in id order, one page at a time' })
  @ApiOkResponse({ type: CustomerPageResponse })
  list(@Query() query: ListCustomersQuery): Promise<CustomerPageResponse> {
    return this.customers.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one customer' })
  @CustomerIdParam()
  @ApiOkResponse({ type: CustomerResponse })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  get(@Param('id', CustomerIdPipe) id: string): Promise<CustomerResponse> {
    return this.customers.get(id);
  }

  @Patch(':id')
  @RequiresAccessToken()
  @ApiOperation({ summary: 'Change some fields of a customer' })
  @CustomerIdParam()
  @ApiBody({
    schema: { ...oneOf(UpdateCustomerByParts, UpdateCustomerByFullName), minProperties: 1 },
    description: 'The fields to change, at least one: name parts, or fullName (all three are accepted too when they agree)',
  })
  @ApiOkResponse({ type: CustomerResponse })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  @ConflictAnswer()
  update(@Param('id', CustomerIdPipe) id: string, @Body() body: UpdateCustomerDto): Promise<CustomerResponse> {
    return this.customers.update(id, body);
  }

  @Delete(':id')
  @RequiresAccessToken()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a customer' })
  @CustomerIdParam()
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  remove(@Param('id', CustomerIdPipe) id: string): Promise<void> {
    return this.customers.remove(id);
  }
}
