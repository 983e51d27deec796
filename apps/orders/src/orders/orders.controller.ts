import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequiresAccessToken } from '@zdm/auth-guard';
import { ObjectIdParam, objectIdPipe } from '@zdm/migrations-nest';
import { ErrorResponseBody } from '@zdm/service-defaults';
import { ChangeStatusDto } from './dto/change-status.dto';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import { OrderPageResponse, OrderResponse } from './dto/order.response';
import { OrdersService } from './orders.service';

/** Accepts an order id (24 hexadecimal characters) in the path; anything else is a 400 naming the field. */
const OrderIdPipe = objectIdPipe('order');

/** The `id` path parameter as the document states it. */
const OrderIdParam = () => ObjectIdParam('Order id');

// 400, 413 (with a body), 503 and 504 are added to every route by the service defaults.
@ApiTags('orders')
@ApiServiceUnavailableResponse({
  type: ErrorResponseBody,
  description:
    'A dependency is down or did not answer before the deadline: the store (`dependency: "mongo"`) or, when placing an order, the customers API (`dependency: "customers"`); or this instance cannot read the stored version of a document (it is an older build)',
})
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @RequiresAccessToken()
  @ApiOperation({ summary: 'Place an order for a customer; the customer is checked through the customers API and their name is kept with the order' })
  @ApiBody({ type: CreateOrderDto })
  @ApiCreatedResponse({ type: OrderResponse })
  @ApiUnprocessableEntityResponse({ type: ErrorResponseBody, description: 'The customer does not exist (details name customerId)' })
  create(@Body() body: CreateOrderDto): Promise<OrderResponse> {
    return this.orders.create(body);
  }

  @Get()
  @ApiOperation({ summary: "List orders (all, or one customer's) in id order, one page at a time" })
  @ApiOkResponse({ type: OrderPageResponse })
  list(@Query() query: ListOrdersQuery): Promise<OrderPageResponse> {
    return this.orders.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one order' })
  @OrderIdParam()
  @ApiOkResponse({ type: OrderResponse })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  get(@Param('id', OrderIdPipe) id: string): Promise<OrderResponse> {
    return this.orders.get(id);
  }

  @Post(':id/status')
  @RequiresAccessToken()
  @HttpCode(200)
  @ApiOperation({ summary: 'Move an order to its next status: placed → paid → shipped → delivered, or cancelled before shipped' })
  @OrderIdParam()
  @ApiBody({ type: ChangeStatusDto })
  @ApiOkResponse({ type: OrderResponse, description: 'The order in its new status (or unchanged, when it already was in it)' })
  @ApiNotFoundResponse({ type: ErrorResponseBody })
  @ApiConflictResponse({ type: ErrorResponseBody, description: 'The order cannot move to this status from its current one, or it kept changing under concurrent writes (retry)' })
  changeStatus(@Param('id', OrderIdPipe) id: string, @Body() body: ChangeStatusDto): Promise<OrderResponse> {
    return this.orders.changeStatus(id, body);
  }
}
