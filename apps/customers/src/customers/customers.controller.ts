import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CustomerIdPipe } from './customer-id.pipe';
import { CustomersService } from './customers.service';
import { CreateCustomerDto } from './dto/create-customer.dto';
import { CustomerPageResponse, CustomerResponse, ErrorResponseBody } from './dto/customer.response';
import { ListCustomersQuery } from './dto/list-customers.query';
import { UpdateCustomerDto } from './dto/update-customer.dto';

@ApiTags('customers')
@ApiBadRequestResponse({ type: ErrorResponseBody, description: 'Invalid input: unknown or `$`-prefixed keys, invalid fields, malformed id' })
@ApiServiceUnavailableResponse({ type: ErrorResponseBody, description: 'This instance cannot read the stored version of a document (it is an older build)' })
@Controller('customers')
export class CustomersController {
  constructor(private readonly customers: CustomersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a customer' })
  @ApiCreatedResponse({ type: CustomerResponse })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseBody })
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
  @ApiOkResponse({ type: CustomerResponse })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  get(@Param('id', CustomerIdPipe) id: string): Promise<CustomerResponse> {
    return this.customers.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of a customer' })
  @ApiOkResponse({ type: CustomerResponse })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  @ApiConflictResponse({ type: ErrorResponseBody, description: 'The customer kept changing under concurrent writes; retry' })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseBody })
  update(@Param('id', CustomerIdPipe) id: string, @Body() body: UpdateCustomerDto): Promise<CustomerResponse> {
    return this.customers.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a customer' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  remove(@Param('id', CustomerIdPipe) id: string): Promise<void> {
    return this.customers.remove(id);
  }
}
